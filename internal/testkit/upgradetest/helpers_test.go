package upgradetest

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
	"github.com/relkit/relkit/internal/testkit/testuser"
)

// moduleRoot is the relkit module's root, three levels above this package.
var moduleRoot = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}()

// relkitBin is relkit's build tool, built once by TestMain.
var relkitBin string

// tmpDirs, the builds the tests share, are removed after every test ran.
var tmpDirs struct {
	sync.Mutex
	dirs []string
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// Every test here builds releases with the go command.
		fmt.Println("upgradetest: end-to-end tests skipped with -short")
		os.Exit(0)
	}
	code := func() int {
		dir, err := os.MkdirTemp("", "relkit-tool-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		relkitBin = filepath.Join(dir, "relkit")
		cmd := exec.Command("go", "build", "-o", relkitBin, "./cmd/relkit")
		cmd.Dir = moduleRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build ./cmd/relkit: %v\n%s", err, out)
			return 1
		}
		code := m.Run()
		testuser.Release() // TestDebugRefusesAnotherUser's second user
		tmpDirs.Lock()
		for _, d := range tmpDirs.dirs {
			os.RemoveAll(d)
		}
		tmpDirs.Unlock()
		return code
	}()
	os.Exit(code)
}

// build is one `relkit build -tar` of a package, made once, in its own
// fresh output directory, when a test first needs it.
type build struct {
	pkg, version, tags string
	// src, when set, makes the source tree to build (pkg "." in it),
	// instead of pkg in this module.
	src func() (string, error)

	once    sync.Once
	tarball string
	err     error
}

var (
	helloV1    = &build{pkg: "./examples/hello", version: "1.0.0"}
	helloV2    = &build{pkg: "./examples/hello", version: "2.0.0"}
	crashV2    = &build{pkg: "./internal/testkit/upgradetest/testdata/crashhello", version: "2.0.0"}
	notReadyV2 = &build{pkg: "./internal/testkit/upgradetest/testdata/notready", version: "2.0.0"}
	slowV2     = &build{pkg: "./internal/testkit/upgradetest/testdata/slowhello", version: "2.0.0"}
	lateV2     = &build{pkg: "./internal/testkit/upgradetest/testdata/latecrash", version: "2.0.0"}
	counterV1  = &build{pkg: "./internal/testkit/upgradetest/testdata/counter", version: "1.0.0"}
	counterV2  = &build{pkg: "./internal/testkit/upgradetest/testdata/counter", version: "2.0.0", tags: "format2"}
)

// get returns the tarball (its .sha256 next to it).
func (b *build) get(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		out, err := os.MkdirTemp("", "relkit-build-")
		if err != nil {
			b.err = err
			return
		}
		tmpDirs.Lock()
		tmpDirs.dirs = append(tmpDirs.dirs, out)
		tmpDirs.Unlock()
		args := []string{"build", "-tar", "-version", b.version, "-o", out}
		if b.tags != "" {
			args = append(args, "-tags", b.tags)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		dir, pkg := moduleRoot, b.pkg
		if b.src != nil {
			if dir, err = b.src(); err != nil {
				b.err = err
				return
			}
			pkg = "."
		}
		cmd := exec.CommandContext(ctx, relkitBin, append(args, pkg)...)
		cmd.Dir = dir
		// -mod=mod: a copied source tree's go.mod lists relkit's
		// requirements without being tidied (all are in the module cache).
		cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000", "GOFLAGS=-mod=mod")
		if o, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("relkit %s %s: %v\n%s", strings.Join(args, " "), b.pkg, err, o)
			return
		}
		found, _ := filepath.Glob(filepath.Join(out, "*-"+b.version+"-*.tar.gz"))
		if len(found) != 1 {
			b.err = fmt.Errorf("relkit build -tar wrote %v into %s, want one tarball", found, out)
			return
		}
		b.tarball = found[0]
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.tarball
}

// system is a release installed from its tarball into a fresh root, as an
// operator installs it: tar -xzf into an empty directory.
type system struct {
	t    *testing.T
	name string
	root string
	port int
	env  []string

	cmd  *exec.Cmd
	logs *testkit.Buffer
	// output, when set, is start's standard output and error instead of
	// logs (a file, as systemd or a shell redirection gives it).
	output *os.File
	done   chan struct{}
	err    error // start's exit, once done is closed
}

// install unpacks tarball into a new root.
func install(t *testing.T, name, tarball string, env ...string) *system {
	t.Helper()
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("tar is not installed")
	}
	return installIn(t, testkit.ShortTempDir(t), name, tarball, env...)
}

// installIn unpacks tarball into root, an empty directory.
func installIn(t *testing.T, root, name, tarball string, env ...string) *system {
	t.Helper()
	if out, err := exec.Command("tar", "-xzf", tarball, "-C", root).CombinedOutput(); err != nil {
		t.Fatalf("tar -xzf %s: %v\n%s", tarball, err, out)
	}
	s := &system{t: t, name: name, root: root, port: testkit.FreePort(t)}
	s.env = append([]string{
		"PATH=" + os.Getenv("PATH"), "LOG_FORMAT=json", "PORT=" + strconv.Itoa(s.port),
		"SHUTDOWN_TIMEOUT=5s", "RELEASE_READY_TIMEOUT=20s", "UPGRADE_TIMEOUT=20s",
	}, env...)
	return s
}

// bin is ROOT/bin/NAME.
func (s *system) bin() string { return filepath.Join(s.root, "bin", s.name) }

// start runs bin/NAME start in the foreground, as systemd or Docker would,
// and waits until it serves.
func (s *system) start(prefix ...string) {
	s.t.Helper()
	argv := append(append([]string{}, prefix...), s.bin(), "start")
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Dir = s.root
	s.cmd.Env = s.env
	s.logs = &testkit.Buffer{}
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if s.output != nil {
		s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
	}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	s.t.Cleanup(func() {
		select {
		case <-s.done:
			return
		default:
		}
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _, err := s.get("/"); err == nil && code == 200 {
			return
		}
		select {
		case <-s.done:
			s.t.Fatalf("start exited before serving: %v\n%s", s.err, s.logs)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("start did not serve within 30s; log:\n%s", s.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM to start and returns how long it took to exit and
// its error (nil for exit 0).
func (s *system) stop() (time.Duration, error) {
	s.t.Helper()
	began := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return time.Since(began), s.err
	case <-time.After(30 * time.Second):
		s.t.Fatalf("start did not exit within 30s of SIGTERM; log:\n%s", s.logs)
		return 0, nil
	}
}

// run runs bin/NAME with args from the root, as an operator does.
func (s *system) run(args ...string) (int, string, string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin(), args...)
	cmd.Dir = s.root
	cmd.Env = s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("%s %v: %v", s.name, args, err)
	}
	return code, stdout.String(), stderr.String()
}

// mustRun runs bin/NAME and fails the test unless it exits 0.
func (s *system) mustRun(args ...string) string {
	s.t.Helper()
	code, stdout, stderr := s.run(args...)
	if code != 0 {
		s.t.Fatalf("%s %s: want exit 0, got %d\nstdout: %s\nstderr: %s\nlog:\n%s", s.name, strings.Join(args, " "), code, stdout, stderr, s.logs)
	}
	return stdout
}

func (s *system) get(path string) (int, string, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d%s", s.port, path))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// body GETs path and fails the test unless it answers 200.
func (s *system) body(path string) string {
	s.t.Helper()
	code, body, err := s.get(path)
	if err != nil || code != 200 {
		s.t.Fatalf("GET %s: want 200, got %d %q %v; log:\n%s", path, code, body, err, s.logs)
	}
	return body
}

// put copies tarball and its .sha256 into releases/VSN/, where upgrade
// looks for them.
func (s *system) put(vsn, tarball string) {
	s.t.Helper()
	dir := filepath.Join(s.root, "releases", vsn)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	for _, f := range []string{tarball, tarball + ".sha256"} {
		b, err := os.ReadFile(f)
		if err != nil {
			s.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

// pid is the PID of start (the supervisor): the process systemd knows.
func (s *system) pid() int { return s.cmd.Process.Pid }

// snapshot describes every entry of the root but tmp/, log/ and
// releases/HISTORY (which the running system writes; a failed switch
// appends its line to HISTORY).
func (s *system) snapshot() map[string]string {
	s.t.Helper()
	return testkit.Snapshot(s.t, s.root, "tmp", "log", filepath.Join("releases", "HISTORY"))
}

func (s *system) readFile(rel string) string {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.root, rel))
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

// stateLines returns the lines of releases/RELEASES that are not comments.
func (s *system) stateLines() []string {
	var out []string
	for _, l := range strings.Split(s.readFile("releases/RELEASES"), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// children returns the PIDs of pid's child processes.
func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// listenInode returns the inode of the TCP socket listening on port, from
// /proc/net/tcp and tcp6.
func listenInode(t *testing.T, port int) string {
	t.Helper()
	want := fmt.Sprintf(":%04X", port)
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) > 9 && strings.HasSuffix(fields[1], want) && fields[3] == "0A" {
				f.Close()
				return fields[9]
			}
		}
		f.Close()
	}
	t.Fatalf("no socket listens on port %d", port)
	return ""
}

// socketNonblocking reports whether process pid holds the socket with the
// given inode, and whether its O_NONBLOCK flag is set, read from
// /proc/PID/fdinfo.
func socketNonblocking(pid int, inode string) (held, nonblocking bool) {
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if target, _ := os.Readlink(fd); target != "socket:["+inode+"]" {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, filepath.Base(fd)))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "flags:"); ok {
				flags, _ := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
				return true, flags&syscall.O_NONBLOCK != 0
			}
		}
	}
	return false, false
}

// checkNonblocking checks that the supervisor and every child of it that
// holds the listening socket see it non-blocking.
func (s *system) checkNonblocking(when string) {
	s.t.Helper()
	inode := listenInode(s.t, s.port)
	held, nb := socketNonblocking(s.pid(), inode)
	if !held || !nb {
		s.t.Errorf("%s: the supervisor (pid %d) holds the listening socket: %v, non-blocking: %v; want both", when, s.pid(), held, nb)
	}
	n := 0
	for _, c := range children(s.pid()) {
		if held, nb := socketNonblocking(c, inode); held {
			n++
			if !nb {
				s.t.Errorf("%s: the app (pid %d) holds the listening socket in blocking mode", when, c)
			}
		}
	}
	if n == 0 {
		s.t.Errorf("%s: no app process holds the listening socket", when)
	}
}

// httpClient is a client with a timeout for the tests' requests.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// logHasLine reports whether one line of logs holds every part: a line's
// fields, not their order, are what a test may rely on.
func logHasLine(logs string, parts ...string) bool {
	for _, line := range strings.Split(logs, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
