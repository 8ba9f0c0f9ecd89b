package pidfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit/testuser"
)

// outside is a root-only directory holding a file the release must never
// read, write or create anything in.
func outside(t *testing.T) (dir, file string) {
	t.Helper()
	dir = t.TempDir()
	os.Chmod(dir, 0o700)
	file = filepath.Join(dir, "pid_max")
	if err := os.WriteFile(file, []byte("4194304\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

func wantOutsideUntouched(t *testing.T, dir, file string) {
	t.Helper()
	if b, _ := os.ReadFile(file); string(b) != "4194304\n" {
		t.Errorf("%s was written: %q", file, b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("want nothing created in %s, got %d entries", dir, len(entries))
	}
}

func wantRefused(t *testing.T, err error, path, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s refused, got no error", path)
	}
	if !errors.Is(err, ErrNotRegular) {
		t.Errorf("want an error matching ErrNotRegular, got %v", err)
	}
	for _, f := range []string{path, what, "rm " + path, "RELEASE_TMP"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("want the message to contain %q, got %v", f, err)
		}
	}
}

func TestSymlinksAreRefused(t *testing.T) {
	t.Parallel()
	t.Run("PID file read", func(t *testing.T) {
		t.Parallel()
		dir, file := outside(t)
		path := filepath.Join(t.TempDir(), "app.pid")
		os.Symlink(file, path)
		pid, err := Read(path)
		if pid != 0 {
			t.Errorf("Read followed the link: pid %d", pid)
		}
		wantRefused(t, err, path, "is a symbolic link")
		wantOutsideUntouched(t, dir, file)
	})
	t.Run("PID file removal", func(t *testing.T) {
		t.Parallel()
		dir, file := outside(t)
		path := filepath.Join(t.TempDir(), "app.pid")
		os.Symlink(file, path)
		removed, err := Remove(path, 4194304)
		if removed {
			t.Errorf("Remove trusted the PID behind a link")
		}
		wantRefused(t, err, path, "is a symbolic link")
		wantOutsideUntouched(t, dir, file)
	})
	t.Run("PID file write replaces the link, not its target", func(t *testing.T) {
		t.Parallel()
		dir, file := outside(t)
		path := filepath.Join(t.TempDir(), "app.pid")
		os.Symlink(file, path)
		if err := Write(path, 42); err != nil {
			t.Fatal(err)
		}
		wantOutsideUntouched(t, dir, file)
		if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("want %s a regular file now, got %v, %v", path, fi, err)
		}
	})
	for _, dangling := range []bool{false, true} {
		name := "lock file"
		if dangling {
			name = "dangling lock file"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir, file := outside(t)
			target := file
			if dangling {
				target = filepath.Join(dir, "created-by-lock")
			}
			path := filepath.Join(t.TempDir(), "app.lock")
			os.Symlink(target, path)
			l, err := TryLock(path)
			if l != nil {
				l.Unlock()
			}
			wantOutsideUntouched(t, dir, file)
			wantRefused(t, err, path, "is a symbolic link")
		})
	}
}

func TestReadRefusesAFIFO(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.pid")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Read(path); done <- err }()
	select {
	case err := <-done:
		wantRefused(t, err, path, "not a regular file")
	case <-time.After(10 * time.Second):
		t.Fatal("Read blocked on a FIFO planted as the PID file")
	}
}

// The reproduction: another user who can write RELEASE_TMP plants
// the PID file and the lock as links before root's release uses them.
func TestLinksPlantedByAnotherUser(t *testing.T) {
	testuser.Get(t)
	outDir, file := outside(t)
	base, err := os.MkdirTemp("", "pidfile")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	shared := filepath.Join(base, "shared") // like /tmp
	os.Mkdir(shared, 0o700)
	os.Chmod(shared, 0o777|os.ModeSticky)
	tmp := filepath.Join(shared, "tmp")
	testuser.Run(t, "mkdir", tmp, "0755")
	pidPath, lockPath := filepath.Join(tmp, "app.pid"), filepath.Join(tmp, "app.lock")
	testuser.Run(t, "symlink", file, pidPath)
	testuser.Run(t, "symlink", filepath.Join(outDir, "created-by-lock"), lockPath)

	l, err := TryLock(lockPath)
	if l != nil {
		l.Unlock()
	}
	wantOutsideUntouched(t, outDir, file)
	wantRefused(t, err, lockPath, "is a symbolic link")
	pid, err := Read(pidPath)
	if pid != 0 {
		t.Errorf("Read followed the link: pid %d", pid)
	}
	wantRefused(t, err, pidPath, "is a symbolic link")
}
