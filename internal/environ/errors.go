package environ

import (
	"fmt"
	"strings"
)

// LineError is one wrong line of an environment file.
type LineError struct {
	// Line is the 1-based line number.
	Line int
	// Key is the variable the line sets, "" when it cannot be told.
	Key string
	// Reason says what is wrong. It never quotes the value.
	Reason string
}

// FileError lists every wrong line of an environment file.
type FileError struct {
	// File is the file's path ("" when parsed from bytes).
	File string
	// Lines are the problems in line order.
	Lines []LineError
}

func (e *FileError) Error() string {
	var b strings.Builder
	file := e.File
	if file == "" {
		file = "environment file"
	}
	fmt.Fprintf(&b, "%s: %d line(s) cannot be read (want KEY=VALUE lines, # comments and blank lines):", file, len(e.Lines))
	for _, l := range e.Lines {
		if l.Key != "" {
			fmt.Fprintf(&b, "\n  line %d (%s): %s", l.Line, l.Key, l.Reason)
		} else {
			fmt.Fprintf(&b, "\n  line %d: %s", l.Line, l.Reason)
		}
	}
	return b.String()
}

// Problem is one problem with a release's environment file.
type Problem struct {
	// Where names the file and line, or the variable, at fault.
	Where string
	// Message says what is wrong and how to fix it; it never quotes a
	// value.
	Message string
}

// Error lists the problems with a release's environment file, as [Load]
// finds them.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Where + ": " + p.Message
	}
	return strings.Join(lines, "\n")
}

func problem(where, msg string) *Error {
	return &Error{Problems: []Problem{{Where: where, Message: msg}}}
}
