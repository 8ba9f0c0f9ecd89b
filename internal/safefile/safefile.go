// Package safefile opens the files a release keeps in its runtime
// directories (log, PID file, instance lock) so that a file planted there
// by someone else is refused instead of followed: O_NOFOLLOW (a symbolic
// link is not followed), O_NONBLOCK (a FIFO does not hang the open; it has
// no effect on a regular file) and O_CLOEXEC, then a check that what was
// opened is a regular file with a single name, owned by the process's
// effective user or root.
//
// The directories themselves are checked by securedir; this package
// guards the last path component, which O_NOFOLLOW alone covers.
package safefile

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrNotRegular is matched by every *[Error].
var ErrNotRegular = errors.New("not a regular file of the release's own")

// Error is a file [Open] refused.
type Error struct {
	// Path is the file.
	Path string
	// Reason says what it is instead, e.g. "is a symbolic link".
	Reason string
}

func (e *Error) Error() string { return e.Path + " " + e.Reason + ", " + ErrNotRegular.Error() }

func (e *Error) Unwrap() error { return ErrNotRegular }

// Open opens path as os.OpenFile does, with O_NOFOLLOW and O_NONBLOCK
// added, and returns the file only when it is a regular file with one name
// (no hard link elsewhere) owned by the process's effective uid or root.
// Otherwise it returns an *[Error] (and creates nothing through a link: a
// dangling link with O_CREATE fails too). Errors of the open itself, such
// as a missing directory, are returned as they are.
func Open(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, perm)
	if err != nil {
		// ELOOP for a link, ENXIO for a FIFO nobody reads: say what it is.
		if fi, lerr := os.Lstat(path); lerr == nil {
			switch {
			case fi.Mode()&os.ModeSymlink != 0:
				return nil, &Error{Path: path, Reason: "is a symbolic link"}
			case !fi.Mode().IsRegular():
				return nil, &Error{Path: path, Reason: fmt.Sprintf("is not a regular file (%s)", fi.Mode().Type())}
			}
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	var reason string
	sys, _ := st.Sys().(*syscall.Stat_t)
	switch {
	case !st.Mode().IsRegular():
		reason = fmt.Sprintf("is not a regular file (%s)", st.Mode().Type())
	case sys != nil && sys.Nlink > 1:
		reason = fmt.Sprintf("has %d names (hard links), so writing it would write another file too", sys.Nlink)
	case sys != nil && int(sys.Uid) != os.Geteuid() && sys.Uid != 0:
		reason = fmt.Sprintf("is owned by uid %d, neither the release's user (uid %d) nor root", sys.Uid, os.Geteuid())
	default:
		return f, nil
	}
	f.Close()
	return nil, &Error{Path: path, Reason: reason}
}
