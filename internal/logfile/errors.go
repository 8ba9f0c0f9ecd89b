package logfile

import "github.com/relkit/relkit/internal/safefile"

// ErrNotRegular is matched by the error [Open], a rotation or [Tail] returns
// for a log file that is not a plain file of its own: a symbolic link, a
// FIFO or device, a file with more than one name (a hard link), or one
// owned by another user. Such a file can only have been planted by someone
// who could write the log directory, to make the release write (or print)
// another file; it is never followed.
var ErrNotRegular = safefile.ErrNotRegular
