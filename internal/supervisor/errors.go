package supervisor

import (
	"errors"
	"fmt"
)

// ErrGaveUp is returned by [Supervisor.Run] when the app crashed more often
// than Config.MaxRestarts within Config.RestartWindow (the heart gave up).
var ErrGaveUp = errors.New("heart gave up")

// ErrNotReady is wrapped by errors for a generation that did not become
// ready: it exited first, timed out, or was stopped while booting.
var ErrNotReady = errors.New("the app did not become ready")

// BootError is returned by [Supervisor.Run] when the first generation fails
// to become ready: the system never came up.
type BootError struct {
	// Err says how the boot failed; it wraps [ErrNotReady].
	Err error
	// Status is the app's exit status when it exited (-1 otherwise).
	Status int
}

func (e *BootError) Error() string { return fmt.Sprintf("boot failed: %v", e.Err) }

func (e *BootError) Unwrap() error { return e.Err }
