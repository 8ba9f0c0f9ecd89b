package logfile

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

func TestMain(m *testing.M) { testuser.Main(m, nil) }

// outside is a file the log must never reach: root-only, in a root-only
// directory, as /etc/shadow would be.
func outside(t *testing.T) (path, content string) {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	path = filepath.Join(dir, "shadow")
	content = "root:$6$secret:19000:0:99999:7:::\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, content
}

func wantUntouched(t *testing.T, path, content string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != content {
		t.Errorf("%s was written through a link: want %q, got %q", path, content, b)
	}
}

func wantRefused(t *testing.T, err error, path string, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s refused, got no error", path)
	}
	if !errors.Is(err, ErrNotRegular) {
		t.Errorf("want an error matching ErrNotRegular, got %v", err)
	}
	for _, f := range append([]string{path}, fragments...) {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("want the message to contain %q, got %v", f, err)
		}
	}
}

func TestOpenRefusesASymlink(t *testing.T) {
	t.Parallel()
	for name, dangling := range map[string]bool{"to a file": false, "dangling": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			target, content := outside(t)
			path := filepath.Join(t.TempDir(), "app.log")
			to := target
			if dangling {
				to = filepath.Join(filepath.Dir(target), "cron-job")
			}
			os.Symlink(to, path)
			w, err := Open(path, Options{})
			if w != nil {
				w.Write([]byte("* * * * * root sh -c 'owned'\n"))
				w.Close()
			}
			wantUntouched(t, target, content)
			if _, err := os.Lstat(filepath.Join(filepath.Dir(target), "cron-job")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a dangling link's target was created")
			}
			wantRefused(t, err, path, "symbolic link", "rm "+path)
		})
	}
}

func TestOpenRefusesSpecialFiles(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.log")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		w, err := Open(path, Options{})
		if w != nil {
			w.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		wantRefused(t, err, path, "not a regular file")
	case <-time.After(10 * time.Second):
		t.Fatal("Open blocked on a FIFO planted as the log file")
	}
}

func TestOpenRefusesAHardLink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	other := filepath.Join(dir, "other")
	os.WriteFile(other, []byte("x\n"), 0o600)
	path := filepath.Join(dir, "app.log")
	if err := os.Link(other, path); err != nil {
		t.Fatal(err)
	}
	w, err := Open(path, Options{})
	if w != nil {
		w.Write([]byte("appended\n"))
		w.Close()
	}
	wantUntouched(t, other, "x\n")
	wantRefused(t, err, path, "2 names")
}

func TestRotationNeverFollowsALink(t *testing.T) {
	t.Parallel()
	target, content := outside(t)
	path := filepath.Join(t.TempDir(), "app.log")
	w, err := Open(path, Options{MaxSize: 10, Keep: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Backups planted as links are moved and dropped, never written.
	for i := 1; i <= 3; i++ {
		os.Symlink(target, Backup(path, i))
	}
	for range 5 {
		if _, err := w.Write([]byte("123456789\n")); err != nil {
			t.Fatal(err)
		}
	}
	wantUntouched(t, target, content)

	// A link planted where the new file is about to be created is refused.
	w.mu.Lock()
	w.beforeReopen = func(p string) { os.Symlink(target, p) }
	w.mu.Unlock()
	_, err = w.Write([]byte("rotates!!\n"))
	wantRefused(t, err, path, "symbolic link")
	wantUntouched(t, target, content)
	// Once the link is gone, writing resumes in a new file.
	w.mu.Lock()
	w.beforeReopen = nil
	w.mu.Unlock()
	os.Remove(path)
	if _, err := w.Write([]byte("resumed\n")); err != nil {
		t.Fatalf("after the link was removed: want the write to succeed, got %v", err)
	}
	if got := readFile(t, path); got != "resumed\n" {
		t.Errorf("want the new file to hold the write, got %q", got)
	}
}

func TestTailRefusesASymlink(t *testing.T) {
	t.Parallel()
	target, _ := outside(t)
	path := filepath.Join(t.TempDir(), "app.log")
	os.Symlink(target, path)
	lines, err := Tail(path, 5)
	if len(lines) > 0 {
		t.Errorf("Tail read through a link: %q", lines)
	}
	wantRefused(t, err, path, "symbolic link")
}

// The reproduction: another user who can write the log directory
// plants NAME.log as a link to a root-only file before root's supervisor
// opens it.
func TestLinkPlantedByAnotherUser(t *testing.T) {
	testuser.Get(t)
	target, content := outside(t)
	base, err := os.MkdirTemp("", "logfile")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	shared := filepath.Join(base, "shared") // like /tmp
	os.Mkdir(shared, 0o700)
	os.Chmod(shared, 0o777|os.ModeSticky)
	dir := filepath.Join(shared, "log")
	testuser.Run(t, "mkdir", dir, "0755")
	path := filepath.Join(dir, "app.log")
	testuser.Run(t, "symlink", target, path)

	w, err := Open(path, Options{})
	if w != nil {
		w.Write([]byte("supervisor: started\n"))
		w.Close()
	}
	wantUntouched(t, target, content)
	wantRefused(t, err, path, "symbolic link")
}
