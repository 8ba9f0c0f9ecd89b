package supervisor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/handover"
	"github.com/relkit/relkit/internal/pidfile"
	"github.com/relkit/relkit/internal/sdnotify"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv("SUPERVISOR_TEST_CHILD"); mode != "" {
		os.Exit(childMain(mode))
	}
	os.Exit(m.Run())
}

// harness is a running supervisor of the test app, with its control socket
// served the way the release's daemon serves it.
type harness struct {
	t       *testing.T
	sup     *Supervisor
	dir     string
	url     string
	ln      net.Listener
	ctl     string
	pidFile string
	out     *testkit.Buffer
	signals chan os.Signal
	runErr  chan error
}

func start(t *testing.T, mode string, tweak func(*Config)) *harness {
	t.Helper()
	dir, err := os.MkdirTemp("", "sup") // short: socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	h := &harness{
		t: t, dir: dir, ln: ln, url: "http://" + ln.Addr().String(),
		ctl: filepath.Join(dir, "app.sock"), pidFile: filepath.Join(dir, "app.pid"),
		out: &testkit.Buffer{}, signals: make(chan os.Signal, 2), runErr: make(chan error, 1),
	}
	cfg := Config{
		Name: "app", Version: "1.0.0", Root: dir,
		Binary:       exe, // Args default to ["start"]; TestMain takes over first
		Env:          map[string]string{"SUPERVISOR_TEST_CHILD": mode, "SUPERVISOR_TEST_COUNTER": filepath.Join(dir, "boots")},
		Listeners:    []handover.NamedListener{{Name: "http", Listener: ln}},
		Tmp:          dir,
		PIDFile:      h.pidFile,
		Output:       h.out,
		Logger:       slog.New(slog.NewTextHandler(h.out, nil)),
		ReadyTimeout: 20 * time.Second,
		StopTimeout:  10 * time.Second,
		Backoff:      10 * time.Millisecond,
		MaxBackoff:   50 * time.Millisecond,
		// Every test's switches run with the trim the release's
		// supervisor makes after each (a no-op for a dynamically linked
		// test binary).
		TrimBinary: true,
		Signals:    h.signals,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	h.sup, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cln, err := control.Listen(h.ctl)
	if err != nil {
		t.Fatal(err)
	}
	srv := &control.Server{Handler: h.sup}
	go srv.Serve(cln)
	go func() {
		h.runErr <- h.sup.Run(context.Background())
		srv.Shutdown(context.Background())
	}()
	t.Cleanup(func() {
		h.sup.Stop()
		select {
		case <-h.sup.Done():
		case <-time.After(30 * time.Second):
			t.Errorf("supervisor did not stop; log:\n%s", h.out)
		}
	})
	return h
}

// waitReady waits until the PID file names the supervisor.
func (h *harness) waitReady() {
	h.t.Helper()
	waitFor(h.t, 30*time.Second, "the PID file", func() bool {
		pid, err := pidfile.Read(h.pidFile)
		return err == nil && pid == os.Getpid()
	}, h.out)
}

// wait returns Run's result.
func (h *harness) wait() error {
	h.t.Helper()
	select {
	case err := <-h.runErr:
		return err
	case <-time.After(30 * time.Second):
		h.t.Fatalf("Run did not return; log:\n%s", h.out)
		return nil
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool, log fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; log:\n%s", timeout, what, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) get(path string) (string, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(h.url + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func (h *harness) call(op string, args ...string) (control.Result, string, string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	res, err := control.Call(ctx, h.ctl, control.Request{Op: op, Args: args}, control.Output{Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		h.t.Fatalf("%s: %v; log:\n%s", op, err, h.out)
	}
	return res, stdout.String(), stderr.String()
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestServeRPCAndStop(t *testing.T) {
	t.Parallel()
	h := start(t, "serve", nil)
	h.waitReady()

	info, err := control.Ping(context.Background(), h.ctl)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode != control.ModeSupervisor || info.PID != os.Getpid() || info.Generation != 1 || info.ChildPID == 0 {
		t.Fatalf("ping: want a supervisor (pid %d) running generation 1, got %+v", os.Getpid(), info)
	}
	child := info.ChildPID
	if body, err := h.get("/"); err != nil || body != fmt.Sprintf("gen 1 pid %d\n", child) {
		t.Errorf("GET /: want the app's answer from pid %d, got %q, %v", child, body, err)
	}
	if body, _ := h.get("/nonblocking"); body != "true <nil>\n" {
		t.Errorf("fd 3 in the app: want non-blocking, got %q", body)
	}
	if nb, err := nonblocking(h.ln.(syscall.Conn)); !nb || err != nil {
		t.Errorf("the supervisor's socket: want non-blocking, got %v, %v", nb, err)
	}

	res, stdout, stderr := h.call(control.OpRPC, "echo", "hello", "world")
	if res.Status != 0 || stdout != "hello world\n" || stderr != "echoed by generation 1\n" {
		t.Errorf("rpc echo: want status 0, %q, %q; got %+v, %q, %q", "hello world\n", "echoed by generation 1\n", res, stdout, stderr)
	}
	res, _, _ = h.call(control.OpRPC, "fail")
	if res.Status != 1 || res.Error != "task fail: failed on purpose" {
		t.Errorf("rpc fail: want status 1 with the task's error, got %+v", res)
	}
	res, _, _ = h.call("frobnicate", "2.0.0")
	if res.Status != 64 || !strings.Contains(res.Error, `unknown request "frobnicate"`) {
		t.Errorf("unknown op: want status 64 naming it, got %+v", res)
	}

	res, _, _ = h.call(control.OpStop)
	if res.Status != 0 {
		t.Fatalf("stop: want status 0, got %+v", res)
	}
	// stop answers once the system has stopped: everything is already gone.
	if _, err := os.Stat(h.pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("PID file after stop: want removed, got %v", err)
	}
	if alive(child) {
		t.Errorf("app pid %d still alive after stop", child)
	}
	if err := h.wait(); err != nil {
		t.Errorf("Run after stop: want nil, got %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(h.dir, "app.1.*"))
	if len(left) != 0 {
		t.Errorf("generation sockets left behind: %v", left)
	}
	if !strings.Contains(h.out.String(), "generation 1 stopped") {
		t.Errorf("the app must have stopped gracefully (SIGTERM, drain); log:\n%s", h.out)
	}
}

func TestBootFailureIsReported(t *testing.T) {
	t.Parallel()
	h := start(t, "fail-boot", nil)
	err := h.wait()
	var be *BootError
	if !errors.As(err, &be) || be.Status != 78 || !errors.Is(err, ErrNotReady) {
		t.Fatalf("want a *BootError with status 78 wrapping ErrNotReady, got %v", err)
	}
	if want := "generation 1 exited with status 78 before it was ready"; !strings.Contains(err.Error(), want) {
		t.Errorf("want %q in %q", want, err)
	}
	if !strings.Contains(h.out.String(), "Error: PORT: want a port") {
		t.Errorf("the app's own error must reach the log; log:\n%s", h.out)
	}
	if _, err := os.Stat(h.pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("PID file after a failed boot: want none, got %v", err)
	}
}

func TestReadyTimeout(t *testing.T) {
	t.Parallel()
	h := start(t, "no-ready", func(c *Config) {
		// Long enough for the child to install its SIGTERM handler
		// however loaded the machine is: the test checks that the
		// supervisor stops it gracefully.
		c.ReadyTimeout, c.ReadyTimeoutSetting = 2*time.Second, "RELEASE_READY_TIMEOUT"
	})
	err := h.wait()
	for _, want := range []string{"did not report ready within 2s", "RELEASE_READY_TIMEOUT", "it was stopped"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	if !strings.Contains(h.out.String(), "generation 1 stopped") {
		t.Errorf("the app that never got ready must be stopped; log:\n%s", h.out)
	}
}

func TestHeartRestartsACrashedApp(t *testing.T) {
	t.Parallel()
	h := start(t, "crash", func(c *Config) { c.Env["SUPERVISOR_TEST_CRASHES"] = "2" })
	// Generations 1 and 2 crash after becoming ready; 3 serves.
	waitFor(t, 30*time.Second, "generation 3", func() bool {
		info, err := control.Ping(context.Background(), h.ctl)
		return err == nil && info.Generation == 3 && info.ChildPID != 0
	}, h.out)
	body, err := h.get("/")
	if err != nil || !strings.HasPrefix(body, "gen 3 ") {
		t.Errorf("after two crashes: want generation 3 serving, got %q, %v", body, err)
	}
	log := h.out.String()
	if want, got := 2, strings.Count(log, `msg="app crashed"`); want != got {
		t.Errorf("crash log lines: want %d, got %d; log:\n%s", want, got, log)
	}
	for _, want := range []string{`how="exited with status 3"`, "heart: restarting the app", "generation 2: crashing on purpose"} {
		if !strings.Contains(log, want) {
			t.Errorf("log: want %q; log:\n%s", want, log)
		}
	}
	if pid, err := pidfile.Read(h.pidFile); err != nil || pid != os.Getpid() {
		t.Errorf("PID file across restarts: want the supervisor's pid %d, got %d, %v", os.Getpid(), pid, err)
	}
}

func TestHeartGivesUpOnACrashLoop(t *testing.T) {
	t.Parallel()
	h := start(t, "crash", func(c *Config) {
		c.Env["SUPERVISOR_TEST_CRASHES"] = "1000"
		c.MaxRestarts = 2
		c.RestartWindow = time.Minute
	})
	err := h.wait()
	if !errors.Is(err, ErrGaveUp) {
		t.Fatalf("want ErrGaveUp, got %v; log:\n%s", err, h.out)
	}
	if want := "app crashed 3 times within 1m0s"; !strings.Contains(err.Error(), want) {
		t.Errorf("want %q in %q", want, err)
	}
	if !strings.Contains(h.out.String(), "heart gave up") {
		t.Errorf("the log must say the heart gave up; log:\n%s", h.out)
	}
	if _, err := os.Stat(h.pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("PID file after giving up: want removed, got %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(h.dir, "boots"))
	if want, got := "3", string(b); want != got {
		t.Errorf("boots: want %s (the first and 2 restarts), got %s", want, got)
	}
}

func TestNoRestartsWhenDisabled(t *testing.T) {
	t.Parallel()
	h := start(t, "crash", func(c *Config) {
		c.Env["SUPERVISOR_TEST_CRASHES"] = "1000"
		c.MaxRestarts = -1
	})
	err := h.wait()
	if !errors.Is(err, ErrGaveUp) || !strings.Contains(err.Error(), "restarts are off") {
		t.Fatalf("want ErrGaveUp saying restarts are off, got %v", err)
	}
}

func TestRestartFailureKeepsTheOldGeneration(t *testing.T) {
	t.Parallel()
	h := start(t, "fail-later", nil)
	h.waitReady()
	res, _, _ := h.call(control.OpRestart)
	if res.Status != 1 || !strings.Contains(res.Error, "generation 2 exited with status 78 before it was ready") || !strings.Contains(res.Error, "generation 1 keeps serving") {
		t.Fatalf("restart of a failing build: want status 1 explaining it, got %+v", res)
	}
	if body, err := h.get("/"); err != nil || !strings.HasPrefix(body, "gen 1 ") {
		t.Errorf("after the failed restart: want generation 1 serving, got %q, %v", body, err)
	}
	info, _ := control.Ping(context.Background(), h.ctl)
	if info.Generation != 1 {
		t.Errorf("ping: want generation 1 current, got %d", info.Generation)
	}
}

func TestStopKillsAnAppThatIgnoresSIGTERM(t *testing.T) {
	t.Parallel()
	h := start(t, "ignore-term", func(c *Config) { c.StopTimeout = 300 * time.Millisecond })
	h.waitReady()
	info, _ := control.Ping(context.Background(), h.ctl)
	began := time.Now()
	h.sup.Stop()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("stop took %v; want about the 300ms stop timeout", took)
	}
	if alive(info.ChildPID) {
		t.Errorf("app pid %d survived the stop", info.ChildPID)
	}
	if !strings.Contains(h.out.String(), "app did not stop in time; killing it") {
		t.Errorf("log must say the app was killed; log:\n%s", h.out)
	}
}

func TestSignals(t *testing.T) {
	t.Parallel()
	h := start(t, "serve", nil)
	h.waitReady()
	h.signals <- syscall.SIGHUP
	waitFor(t, 30*time.Second, "generation 2 after SIGHUP", func() bool {
		body, err := h.get("/")
		return err == nil && strings.HasPrefix(body, "gen 2 ")
	}, h.out)
	h.signals <- syscall.SIGUSR1
	waitFor(t, 10*time.Second, "SIGUSR1 passed on to generation 2", func() bool {
		body, err := h.get("/usr1")
		return err == nil && body == "1\n"
	}, h.out)
	h.signals <- syscall.SIGTERM
	if err := h.wait(); err != nil {
		t.Fatalf("Run after SIGTERM: want nil, got %v", err)
	}
	if !strings.Contains(h.out.String(), "generation 2 stopped") {
		t.Errorf("SIGTERM must reach the app as a graceful stop; log:\n%s", h.out)
	}
}

func TestNotifiesItsServiceManager(t *testing.T) {
	t.Parallel()
	dir, _ := os.MkdirTemp("", "sdn")
	defer os.RemoveAll(dir)
	recv, err := sdnotify.Listen(filepath.Join(dir, "notify"))
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	var mu sync.Mutex
	var got []string
	go func() {
		for {
			msg, err := recv.Receive(context.Background())
			if err != nil {
				return
			}
			mu.Lock()
			got = append(got, strings.Join(msg, " "))
			mu.Unlock()
		}
	}()
	seen := func(prefix string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range got {
				if strings.HasPrefix(m, prefix) {
					return true
				}
			}
			return false
		}
	}
	h := start(t, "serve", func(c *Config) { c.Notify = recv.Path() })
	h.waitReady()
	waitFor(t, 10*time.Second, "READY=1", seen("READY=1 MAINPID="+strconv.Itoa(os.Getpid())+" STATUS=app 1.0.0 serving (generation 1"), h.out)
	h.call(control.OpRestart)
	waitFor(t, 10*time.Second, "RELOADING=1", seen("RELOADING=1 MONOTONIC_USEC="), h.out)
	waitFor(t, 10*time.Second, "READY=1 after the restart", seen("READY=1 MAINPID="+strconv.Itoa(os.Getpid())+" STATUS=app 1.0.0 serving (generation 2"), h.out)
	h.call(control.OpStop)
	waitFor(t, 10*time.Second, "STOPPING=1", seen("STOPPING=1"), h.out)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no name", Config{Binary: "/bin/app", Tmp: "/tmp"}, "Name is required"},
		{"no binary", Config{Name: "app", Tmp: "/tmp"}, "Binary is required"},
		{"no tmp", Config{Name: "app", Binary: "/bin/app"}, "Tmp is required"},
	}
	for _, c := range cases {
		if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error containing %q, got %v", c.name, c.want, err)
		}
	}
}

func TestStartedRunsWhileTheAppBoots(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	hc := make(chan *harness, 1)
	h := start(t, "serve", func(c *Config) {
		c.Started = func() error {
			calls.Add(1)
			h := <-hc
			// The app has been started, and is not ready yet: the PID
			// file is written once it is.
			h.sup.mu.Lock()
			n := len(h.sup.live)
			h.sup.mu.Unlock()
			if n != 1 {
				return fmt.Errorf("Started called with %d generations running, want 1", n)
			}
			if _, err := os.Stat(h.pidFile); !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("Started called after the PID file was written (%v): want it before the app is ready", err)
			}
			return nil
		}
	})
	hc <- h
	h.waitReady()
	if body, err := h.get("/"); err != nil || !strings.HasPrefix(body, "gen 1 ") {
		t.Errorf("GET /: want generation 1's answer, got %q, %v", body, err)
	}
	res, _, _ := h.call(control.OpRestart)
	if res.Status != 0 {
		t.Fatalf("restart: want status 0, got %+v", res)
	}
	if want, got := int32(1), calls.Load(); want != got {
		t.Errorf("Started: want %d call (the first generation only), got %d", want, got)
	}
}

func TestStartedFailureStopsTheApp(t *testing.T) {
	t.Parallel()
	failed := errors.New("the control socket could not be served")
	var child int
	hc := make(chan *harness, 1)
	h := start(t, "serve", func(c *Config) {
		c.Started = func() error {
			h := <-hc
			h.sup.mu.Lock()
			for g := range h.sup.live {
				child = g.pid
			}
			h.sup.mu.Unlock()
			return failed
		}
	})
	hc <- h
	if err := h.wait(); !errors.Is(err, failed) {
		t.Fatalf("Run: want Started's error, got %v", err)
	}
	if child == 0 {
		t.Fatal("Started ran before the app was started")
	}
	if alive(child) {
		t.Errorf("app pid %d still alive after Started failed", child)
	}
	if _, err := os.Stat(h.pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("PID file after Started failed: want none, got %v", err)
	}
}
