//go:build unix

package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/relkit/relkit/migrate/internal/dbdriver"
)

// fileLock is the migration lock of one database file: an flock(2) on
// PATH-migrate.lock beside it. Every run that writes takes it, so runs from
// several processes (replicas on one host, a deploy script beside a
// starting server) take turns, and one that finds it taken waits, then
// says which process holds it. The kernel releases it when the holder
// exits, even by SIGKILL, so a lock is never left behind. The file stays,
// empty or holding the last holder's PID.
type fileLock struct {
	path string // "" for an in-memory database: nothing to lock
	f    *os.File
}

func newFileLock(dbPath string, params url.Values) *fileLock {
	p := strings.TrimPrefix(dbPath, "file:")
	if p == "" || strings.HasPrefix(p, ":memory:") || params.Get("mode") == "memory" {
		return &fileLock{}
	}
	return &fileLock{path: p + "-migrate.lock"}
}

// lock waits for the lock until ctx is done.
func (l *fileLock) lock(ctx context.Context) error {
	if l.path == "" || l.f != nil {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o644)
	writable := err == nil
	if errors.Is(err, fs.ErrPermission) {
		f, err = os.Open(l.path) // another user's lock file still locks
	}
	if err != nil {
		return fmt.Errorf("open the migration lock file: %w", err)
	}
	wait := time.Millisecond
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return fmt.Errorf("lock %s: %w", l.path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return fmt.Errorf("%w: %s is locked by %s", dbdriver.ErrLockTimeout, l.path, holder(l.path))
		case <-timer.C:
		}
		wait = min(wait*2, 50*time.Millisecond)
		timer.Reset(wait)
	}
	if writable {
		f.Truncate(0)
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	l.f = f
	return nil
}

// holder names the process a lock file says holds it.
func holder(path string) string {
	b, _ := os.ReadFile(path)
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
		return "process " + strconv.Itoa(pid) + " (another migration run)"
	}
	return "another migration run"
}

func (l *fileLock) unlock() error {
	if l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
	return err
}
