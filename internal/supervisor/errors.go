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

// SwitchError is returned by [Supervisor.Restart] and [Supervisor.Upgrade]
// when the new generation did not take over: the old one keeps serving.
type SwitchError struct {
	// Op is "restart" or "upgrade".
	Op string
	// Release is what the new generation ran.
	Release Release
	// Serving and ServingVersion are the generation that keeps serving
	// and its release version.
	Serving        int
	ServingVersion string
	// Stopping is set when a stop request called the switch off: the old
	// generation then serves only until it has drained.
	Stopping bool
	// Output holds the new generation's last lines of output (at most
	// 20), nil when it never started.
	Output []string
	// Err says what went wrong; it wraps [ErrNotReady] when the new
	// generation exited, timed out or was stopped before it was ready.
	Err error
}

func (e *SwitchError) Error() string {
	if e.Stopping {
		return fmt.Sprintf("%s: %v; the system is stopping (a stop request came), so nothing serves once generation %d has drained", e.Op, e.Err, e.Serving)
	}
	if e.Op == "upgrade" {
		return fmt.Sprintf("%v; generation %d (release %s) keeps serving", e.Err, e.Serving, e.ServingVersion)
	}
	return fmt.Sprintf("%s: %v; generation %d keeps serving", e.Op, e.Err, e.Serving)
}

func (e *SwitchError) Unwrap() error { return e.Err }
