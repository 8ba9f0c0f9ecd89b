package pidfile

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit/testuser"
)

// The test binary re-executes itself in this mode to hold a lock from
// another process.
func TestMain(m *testing.M) {
	if path := os.Getenv("PIDFILE_TEST_HOLD"); path != "" {
		if _, err := TryLock(path); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		bufio.NewReader(os.Stdin).ReadString('\n') // hold until stdin closes
		os.Exit(0)
	}
	testuser.Main(m, nil)
}

func TestWriteRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "app.pid")
	for _, pid := range []int{4242, 17} { // the second write replaces the first
		if err := Write(path, pid); err != nil {
			t.Fatal(err)
		}
		got, err := Read(path)
		if err != nil || got != pid {
			t.Fatalf("want %d, got %d, %v", pid, got, err)
		}
	}
	b, _ := os.ReadFile(path)
	if want, got := "17\n", string(b); want != got {
		t.Errorf("file content: want %q, got %q", want, got)
	}
	st, _ := os.Stat(path)
	if want, got := os.FileMode(0o644), st.Mode().Perm(); want != got {
		t.Errorf("mode: want %v, got %v", want, got)
	}
	entries, _ := os.ReadDir(dir)
	if want, got := 1, len(entries); want != got {
		t.Errorf("files in dir: want %d (no temporary files left), got %d", want, got)
	}
}

func TestWriteMissingDir(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gone", "app.pid")
	err := Write(path, 1)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("want an error naming %s, got %v", path, err)
	}
}

func TestReadInvalid(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct{ name, content string }{
		{"empty", ""},
		{"text", "hello\n"},
		{"zero", "0\n"},
		{"negative", "-5\n"},
		{"two numbers", "12 13\n"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		os.WriteFile(p, []byte(c.content), 0o644)
		if _, err := Read(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: want ErrInvalid, got %v", c.name, err)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: want os.ErrNotExist, got %v", err)
	}
}

func TestRemoveOnlyOwnPID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		name        string
		content     string // "" = no file
		pid         int
		wantRemoved bool
	}{
		{"own pid", "100\n", 100, true},
		{"another instance's pid", "200\n", 100, false},
		{"garbage is left alone", "junk", 100, false},
		{"no file", "", 100, false},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		if c.content != "" {
			os.WriteFile(p, []byte(c.content), 0o644)
		}
		removed, err := Remove(p, c.pid)
		if err != nil || removed != c.wantRemoved {
			t.Errorf("%s: want removed=%v, got %v, %v", c.name, c.wantRemoved, removed, err)
		}
		_, statErr := os.Stat(p)
		if exists := statErr == nil; exists == c.wantRemoved && c.content != "" {
			t.Errorf("%s: want file exists=%v after Remove, got %v", c.name, !c.wantRemoved, exists)
		}
	}
}

func TestLockIsExclusiveAndDiesWithItsHolder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.lock")

	holder := exec.Command(os.Args[0], "-test.run=^$")
	holder.Env = append(os.Environ(), "PIDFILE_TEST_HOLD="+path)
	stdin, _ := holder.StdinPipe()
	stdout, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if want, got := "locked\n", line; want != got {
		t.Fatalf("holder: want %q, got %q", want, got)
	}

	if _, err := TryLock(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("while another process holds it: want ErrLocked, got %v", err)
	}

	// The holder dies without unlocking: the kernel releases the lock.
	_ = stdin
	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	holder.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := TryLock(path)
		if err == nil {
			l.Unlock()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the holder died: want the lock, got %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLockWithinProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.lock")
	l, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: want ErrLocked, got %v", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := TryLock(path)
	if err != nil {
		t.Fatalf("after Unlock: want the lock, got %v", err)
	}
	l2.Unlock()
}
