package pidfile

import (
	"errors"

	"github.com/relkit/relkit/internal/safefile"
)

// ErrLocked is returned by [Lock] when another process holds the lock: an
// instance of the release is already running with the same RELEASE_TMP.
var ErrLocked = errors.New("pidfile: lock held by another process (the release is already running)")

// ErrInvalid is returned by [Read] for a file that does not hold a PID.
var ErrInvalid = errors.New("pidfile: not a PID file (want a positive decimal number)")

// ErrNotRegular is matched by the error [Read], [Remove] and [TryLock]
// return for a PID or lock file that is a symbolic link, a FIFO or device,
// a hard link or another user's file: something planted by whoever could
// write RELEASE_TMP. It is never followed.
var ErrNotRegular = safefile.ErrNotRegular
