// Package testuser gives permission tests a second, unprivileged user: the
// "other user" of an attack, who pre-creates directories, plants symbolic
// links or serves a socket of their own while the code under test runs as
// root.
//
// The user is relkit-test, a system account without home, password or
// login shell. [Get] creates it with useradd when it is missing; the last
// test binary using it removes it again when it exits, if a test created it
// (its comment says so), so a machine is left as it was found. Tests that
// need it skip with the reason when they do not run as root, and fail when
// CI=true.
//
// Work is done as the user by re-executing the test binary with the user's
// credentials ([Run], [Start]); the package's TestMain hands control to
// [Main], which runs the requested helper in that child instead of the
// tests:
//
//	func TestMain(m *testing.M) {
//		testuser.Main(m, map[string]testuser.Helper{"serve": serveAsOtherUser})
//	}
//
//	u := testuser.Get(t)
//	testuser.Run(t, "mkdir", dir, "0755") // as relkit-test
package testuser

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Name is the test user's login name.
const Name = "relkit-test"

// comment marks an account this package created (and may remove).
const comment = "relkit test user (removed by the tests that created it)"

// Variables by which a re-executed test binary learns what to do.
const (
	envHelper = "RELKIT_TESTUSER_HELPER"
	envArgs   = "RELKIT_TESTUSER_ARGS"
)

// User is the test user.
type User struct {
	Name     string
	UID, GID int
}

// Helper is work done as the test user in a re-executed test binary. It
// prints "ready" on its own line when [Start] should return, and returns
// nil for success; its error is printed and the child exits 1.
type Helper func(args []string) error

// builtin helpers, available to every package.
var builtin = map[string]Helper{
	// mkdir DIR MODE: create DIR with MODE (octal), exactly.
	"mkdir": func(a []string) error {
		mode, err := strconv.ParseUint(a[1], 8, 32)
		if err != nil {
			return err
		}
		if err := os.Mkdir(a[0], 0o700); err != nil {
			return err
		}
		return os.Chmod(a[0], os.FileMode(mode&0o777)|modeBits(uint32(mode)))
	},
	// symlink TARGET LINK
	"symlink": func(a []string) error { return os.Symlink(a[0], a[1]) },
	// write FILE CONTENT: create FILE (0644) holding CONTENT.
	"write": func(a []string) error { return os.WriteFile(a[0], []byte(a[1]), 0o644) },
	// remove PATH
	"remove": func(a []string) error { return os.Remove(a[0]) },
}

func modeBits(m uint32) os.FileMode {
	var b os.FileMode
	if m&0o1000 != 0 {
		b |= os.ModeSticky
	}
	if m&0o2000 != 0 {
		b |= os.ModeSetgid
	}
	return b
}

// Main runs the package's tests, or, in a binary re-executed by [Run] or
// [Start], the helper it was asked for (the builtin mkdir, symlink, write
// and remove, or one of helpers), and exits. After the tests it removes the
// test user when this package created it and no other test binary still
// uses it.
func Main(m *testing.M, helpers map[string]Helper) {
	if name := os.Getenv(envHelper); name != "" {
		os.Exit(runHelper(name, helpers))
	}
	code := m.Run()
	release()
	os.Exit(code)
}

func runHelper(name string, helpers map[string]Helper) int {
	h, ok := helpers[name]
	if !ok {
		h, ok = builtin[name]
	}
	if !ok {
		fmt.Fprintf(os.Stderr, "testuser: no helper %q\n", name)
		return 2
	}
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv(envArgs)), &args); err != nil {
		fmt.Fprintf(os.Stderr, "testuser: arguments: %v\n", err)
		return 2
	}
	if err := h(args); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

var state struct {
	sync.Mutex
	user    *User
	err     error
	lock    *os.File // shared flock held while this binary uses the user
	binDir  string   // a copy of the test binary the user may execute
	binPath string
}

// NeedRoot skips t, or fails it when CI=true, unless the test runs as root.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	const why = "needs root: the test runs as root while a second user (relkit-test) attacks"
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true and the test " + why)
	}
	t.Skip("the test " + why)
}

// Get returns the test user, creating it when missing. It skips t, or
// fails it under CI=true, when the test does not run as root.
func Get(t testing.TB) User {
	t.Helper()
	NeedRoot(t)
	state.Lock()
	defer state.Unlock()
	if state.user == nil && state.err == nil {
		state.user, state.err = acquire()
	}
	if state.err != nil {
		t.Fatalf("test user %s: %v", Name, state.err)
	}
	return *state.user
}

// lockPath serialises creating and removing the user across test binaries,
// and counts (as shared flocks) the binaries using it.
func lockPath() string { return filepath.Join(os.TempDir(), "relkit-testuser.lock") }

func acquire() (*User, error) {
	f, err := os.OpenFile(lockPath(), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	if err := flock(f, syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	u, err := lookup()
	if err != nil {
		out, cerr := exec.Command("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
			"--shell", "/usr/sbin/nologin", "--comment", comment, "--user-group", Name).CombinedOutput()
		if cerr != nil {
			f.Close()
			return nil, fmt.Errorf("useradd: %v: %s", cerr, strings.TrimSpace(string(out)))
		}
		u, err = lookup()
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	if u.UID == 0 {
		f.Close()
		return nil, fmt.Errorf("user %s has uid 0; it must be unprivileged", Name)
	}
	// Downgrade to a shared lock: other binaries may use the user too, and
	// the last one out removes it.
	if err := flock(f, syscall.LOCK_SH); err != nil {
		f.Close()
		return nil, err
	}
	state.lock = f
	return u, nil
}

func lookup() (*User, error) {
	u, err := user.Lookup(Name)
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &User{Name: Name, UID: uid, GID: gid}, nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

// Release does what [Main] does after the tests, for a package whose
// TestMain does more around m.Run and runs nothing as the user through
// [Run] or [Start] (it sets the user's credentials on the commands it
// runs itself): it drops this binary's hold on the user, removing the user
// when this package created it and no other binary holds it.
func Release() { release() }

// release drops this binary's hold on the user and removes the user when
// no other binary holds it and a test created it.
func release() {
	state.Lock()
	defer state.Unlock()
	if state.binDir != "" {
		os.RemoveAll(state.binDir)
	}
	if state.lock == nil {
		return
	}
	defer state.lock.Close()
	if flock(state.lock, syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return // another test binary still uses it
	}
	if u, err := user.Lookup(Name); err == nil && u.Name == comment {
		if out, err := exec.Command("userdel", Name).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "testuser: userdel %s: %v: %s\n", Name, err, out)
		}
	}
}

// binary returns a copy of the test binary that the test user may execute
// (the original lives in a directory only root may enter).
func binary() (string, error) {
	state.Lock()
	defer state.Unlock()
	if state.binPath != "" {
		return state.binPath, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "relkit-testuser-bin")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	src, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer src.Close()
	p := filepath.Join(dir, filepath.Base(exe))
	dst, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return "", err
	}
	if err := dst.Close(); err != nil {
		return "", err
	}
	state.binDir, state.binPath = dir, p
	return p, nil
}

// Command returns the test binary set to run helper with args as the test
// user, in directory /, with an environment holding only what the helper
// needs.
func Command(t testing.TB, helper string, args ...string) *exec.Cmd {
	t.Helper()
	u := Get(t)
	bin, err := binary()
	if err != nil {
		t.Fatalf("copy the test binary for %s: %v", Name, err)
	}
	a, _ := json.Marshal(args)
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Dir = "/"
	cmd.Env = []string{envHelper + "=" + helper, envArgs + "=" + string(a), "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: []uint32{}}}
	return cmd
}

// Run runs helper with args as the test user, waits for it and returns its
// standard output. A helper that fails fails t.
func Run(t testing.TB, helper string, args ...string) string {
	t.Helper()
	cmd := Command(t, helper, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("as %s: %s %q: %v: %s", Name, helper, args, err, strings.TrimSpace(stderr.String()))
	}
	return string(out)
}

// Start starts helper with args as the test user and returns once it has
// printed "ready". The process is killed and reaped when t ends.
func Start(t testing.TB, helper string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := Command(t, helper, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("as %s: start %s: %v", Name, helper, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil && line != "ready\n" {
			err = fmt.Errorf("want %q, got %q", "ready\n", line)
		}
		ready <- err
		io.Copy(io.Discard, stdout)
	}()
	select {
	case err := <-ready:
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("as %s: %s did not get ready: %v: %s", Name, helper, err, strings.TrimSpace(stderr.String()))
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("as %s: %s did not say ready within 30s", Name, helper)
	}
	return cmd
}
