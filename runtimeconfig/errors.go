package runtimeconfig

import (
	"errors"
	"strings"
)

// Problem is one thing wrong with one variable.
type Problem struct {
	// Var is the environment variable, e.g. "PORT".
	Var string
	// Message says which rule the value breaks and how to fix it. It
	// never contains the value of a secret.
	Message string
}

// Error reports every problem found while loading, one per line, so an
// operator fixes them all at once.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Var)
		b.WriteString(": ")
		b.WriteString(p.Message)
	}
	return b.String()
}

// Validator is implemented by configuration structs that check themselves
// after loading. Return a *[Error] or an error joining [FieldError]s to name
// the variables at fault; any other error is reported as a whole.
type Validator interface {
	Validate() error
}

// FieldError is returned by a [Validator] to blame one variable.
type FieldError = Problem

func (p Problem) Error() string { return p.Var + ": " + p.Message }

// ErrNotStructPointer is returned by [Load] when dst is not a pointer to a
// struct.
var ErrNotStructPointer = errors.New("runtimeconfig: Load needs a pointer to a struct, e.g. Load(&cfg, env, opts)")
