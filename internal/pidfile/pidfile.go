package pidfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/relkit/relkit/internal/safefile"
)

// Write atomically replaces the file at path with pid and a newline: it
// writes a temporary file in the same directory, syncs it and renames it over
// path. The file is readable by everyone (mode 0644), as PID files are, so
// that a process manager running as another user can read it. A symbolic
// link at path is replaced by the file, never written through.
func Write(path string, pid int) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write PID file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	_, err = fmt.Fprintf(tmp, "%d\n", pid)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write PID file %s: %w", path, err)
	}
	return nil
}

// Read returns the PID stored at path. A missing file yields an error
// matching os.ErrNotExist, a file holding anything but a positive number one
// matching [ErrInvalid], and a symbolic link (or FIFO, device, hard link,
// another user's file) one matching [ErrNotRegular]: it is not followed.
func Read(path string) (int, error) {
	f, err := open(path, "PID file", os.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPIDFile))
	if err != nil {
		return 0, fmt.Errorf("read PID file %s: %w", path, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("read PID file %s: %w", path, ErrInvalid)
	}
	return pid, nil
}

// Remove deletes the PID file at path if it still names pid, and reports
// whether it did. A file naming another process (a newer instance) or holding
// no PID is left alone; a missing file is not an error; a link or another
// file [Read] refuses is left alone with its error.
func Remove(path string, pid int) (bool, error) {
	got, err := Read(path)
	switch {
	case errors.Is(err, os.ErrNotExist), errors.Is(err, ErrInvalid):
		return false, nil
	case err != nil:
		return false, err
	case got != pid:
		return false, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("remove PID file %s: %w", path, err)
	}
	return true, nil
}

// maxPIDFile bounds what Read reads: a PID and a newline need a dozen bytes.
const maxPIDFile = 64

// open opens a file of RELEASE_TMP through safefile (O_NOFOLLOW|O_NONBLOCK|
// O_CLOEXEC, a regular file with one name, owned by the process's user or
// root); kind names it in the error.
func open(path, kind string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := safefile.Open(path, flag, perm)
	var e *safefile.Error
	if errors.As(err, &e) {
		return nil, fmt.Errorf("%s %s %s, %w: relkit never opens such a file, since whoever could plant it may aim it at another one. Fix: check who made it, remove it (rm %s), and make sure nobody but the release's user can write RELEASE_TMP", kind, path, e.Reason, ErrNotRegular, path)
	}
	return f, err
}

// Lock is a held single-instance lock; see [TryLock].
type Lock struct {
	f *os.File
}

// TryLock takes the exclusive lock on the file at path (creating it, mode
// 0600) without waiting. It fails with [ErrLocked] when another process holds
// it, and with an error matching [ErrNotRegular] when path is a symbolic
// link or otherwise not a plain file of the release's own (nothing is
// created through a link). The lock lasts until [Lock.Unlock] or the
// process exits, and is not inherited by child processes.
func TryLock(path string) (*Lock, error) {
	f, err := open(path, "lock file", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		if errors.Is(err, ErrNotRegular) {
			return nil, err
		}
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock. The lock file itself stays: removing it would let
// a process that opened the old file and one that creates a new file both
// believe they hold the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
