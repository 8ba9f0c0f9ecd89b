package release

import (
	"errors"
	"fmt"
)

// Exit codes of a release's commands.
const (
	ExitOK      = 0  // success
	ExitFailure = 1  // runtime failure
	ExitUsage   = 64 // unknown command, flag or task; bad arguments (EX_USAGE)
	ExitConfig  = 78 // invalid configuration (EX_CONFIG)
)

// UsageError reports a command line that cannot work. Commands and tasks
// return it for bad arguments; the release prints "Error: ..." and
// "Try: ..." and exits 64.
type UsageError struct {
	// Problem says what is wrong, e.g. `unknown task "gret"`.
	Problem string
	// Try is the command to run instead, e.g. "hello eval" (optional; the
	// default is "NAME help").
	Try string
}

func (e *UsageError) Error() string { return e.Problem }

// Usagef returns a *UsageError with a formatted problem.
func Usagef(format string, args ...any) error {
	return &UsageError{Problem: fmt.Sprintf(format, args...)}
}

// errHelp is returned by a command that printed its help on request.
var errHelp = errors.New("help requested")

// ErrNoHandler is returned by start when the HTTP server is enabled but the
// application has no Handler.
var ErrNoHandler = errors.New("SERVER=true but the application defines no Handler; unset SERVER or give release.App a Handler")
