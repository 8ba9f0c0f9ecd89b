package pidfile

import "errors"

// ErrLocked is returned by [Lock] when another process holds the lock: an
// instance of the release is already running with the same RELEASE_TMP.
var ErrLocked = errors.New("pidfile: lock held by another process (the release is already running)")

// ErrInvalid is returned by [Read] for a file that does not hold a PID.
var ErrInvalid = errors.New("pidfile: not a PID file (want a positive decimal number)")
