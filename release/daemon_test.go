package release_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"

	"github.com/relkit/relkit/internal/control"
)

// A daemonised release, run as real processes: the test binary re-executed
// as release.Main(testApp()) is the client (daemon, stop, pid, rpc…), the
// supervisor and the app it supervises.
type daemonEnv struct {
	t    *testing.T
	env  []string
	tmp  string
	log  string
	port int
}

func newDaemonEnv(t *testing.T, extra ...string) *daemonEnv {
	t.Helper()
	dirs := runtimeDirs(t)
	d := &daemonEnv{t: t, port: testkit.FreePort(t),
		tmp: strings.TrimPrefix(dirs[0], "RELEASE_TMP="),
		log: filepath.Join(strings.TrimPrefix(dirs[1], "RELEASE_LOG_DIR="), "testapp.log")}
	d.env = append(append(dirs, "PORT="+strconv.Itoa(d.port), "RELEASE_READY_TIMEOUT=20s", "SHUTDOWN_TIMEOUT=10s"), extra...)
	t.Cleanup(func() {
		// Never leave a daemon behind, whatever the test did.
		if code, _, _ := d.run("stop", "-timeout", "20s"); code == 0 {
			return
		}
	})
	return d
}

// run runs the release's command line in a real process.
func (d *daemonEnv) run(args ...string) (int, string, string) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append([]string{"RELKIT_TEST_EXEC=1", "LOG_FORMAT=json", "PATH=" + os.Getenv("PATH")}, d.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		d.t.Fatalf("%v: %v", args, err)
	}
	return code, stdout.String(), stderr.String()
}

func (d *daemonEnv) mustRun(args ...string) string {
	d.t.Helper()
	code, stdout, stderr := d.run(args...)
	if code != 0 {
		d.t.Fatalf("%s: want exit 0, got %d\nstdout: %s\nstderr: %s\nlog:\n%s", strings.Join(args, " "), code, stdout, stderr, d.logText())
	}
	return stdout
}

func (d *daemonEnv) logText() string {
	b, _ := os.ReadFile(d.log)
	return string(b)
}

func (d *daemonEnv) get(path string) (int, string) {
	d.t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d%s", d.port, path))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (d *daemonEnv) pidFile() string { return filepath.Join(d.tmp, "testapp.pid") }
func (d *daemonEnv) socket() string  { return filepath.Join(d.tmp, "testapp.sock") }

// gone reports whether pid has exited (a zombie waiting for a parent that
// does not reap counts as gone).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(after, "Z")
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("PID file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("PID file %q: %v", b, err)
	}
	return pid
}

func TestDaemonPIDRPCStop(t *testing.T) {
	t.Parallel()
	d := newDaemonEnv(t)
	out := d.mustRun("daemon")
	pid := readPID(t, d.pidFile())
	if want := fmt.Sprintf("testapp 1.2.3 started (pid %d); log: %s\n", pid, d.log); out != want {
		t.Errorf("daemon: want %q, got %q", want, out)
	}
	if got := d.mustRun("pid"); got != fmt.Sprintf("%d\n", pid) {
		t.Errorf("pid: want %d (the PID file's), got %q", pid, got)
	}
	for range 3 {
		if code, body := d.get("/"); code != 200 || body != "hello from testapp 1.2.3\n" {
			t.Fatalf("GET /: want 200 from the app, got %d %q", code, body)
		}
	}

	// rpc runs inside the app: it sees the requests just served.
	code, stdout, stderr := d.run("rpc", "hits")
	if code != 0 || !strings.HasPrefix(stdout, "hits=3 pid=") || stderr != "counted in the running system\n" {
		t.Errorf("rpc hits: want exit 0, hits=3 from the app and its stderr, got %d %q %q", code, stdout, stderr)
	}
	appPID, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(stdout, "hits=3 pid=")))
	if appPID == pid || appPID == 0 {
		t.Errorf("rpc must run in the app process, not the supervisor %d; got pid %d", pid, appPID)
	}
	if out := d.mustRun("rpc", "echo", "a", "b"); out != "a b\n" {
		t.Errorf("rpc echo: want %q, got %q", "a b\n", out)
	}
	code, _, stderr = d.run("rpc", "fail")
	if code != 1 || stderr != "Error: task fail: the task failed on purpose\n" {
		t.Errorf("rpc fail: want exit 1 with the task's error, got %d %q", code, stderr)
	}
	code, _, stderr = d.run("rpc", "region")
	if code != 64 || !strings.Contains(stderr, "task region runs only in a fresh process") || !strings.Contains(stderr, "Try: testapp eval region") {
		t.Errorf("rpc of an eval-only task: want exit 64 pointing at eval, got %d %q", code, stderr)
	}
	code, _, stderr = d.run("rpc", "nope")
	if code != 64 || !strings.Contains(stderr, `unknown task "nope"`) {
		t.Errorf("rpc of an unknown task: want exit 64, got %d %q", code, stderr)
	}

	code, stdout, _ = d.run("stop")
	if code != 0 || stdout != "testapp stopped\n" {
		t.Fatalf("stop: want exit 0 and %q, got %d %q", "testapp stopped\n", code, stdout)
	}
	for _, p := range []string{d.pidFile(), d.socket()} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s after stop: want removed, got %v", filepath.Base(p), err)
		}
	}
	waitUntil(t, "the supervisor and the app to exit", func() bool { return gone(pid) && gone(appPID) })
	log := d.logText()
	for _, want := range []string{`"component":"supervisor"`, `"msg":"app ready"`, `"msg":"rpc task started"`, `"msg":"stopped"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log: want %s; log:\n%s", want, log)
		}
	}
	code, _, stderr = d.run("pid")
	if code != 1 || !strings.Contains(stderr, "testapp is not running") {
		t.Errorf("pid after stop: want exit 1 saying it is not running, got %d %q", code, stderr)
	}
}

func TestDaemonBootFailure(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		env      []string
		wantCode int
		want     []string
	}{
		{"bad release setting", []string{"PORT=http"}, 78, []string{`PORT: want a whole number, got "http"`}},
		{"bad app setting", []string{"SLOW_DELAY=soon"}, 78, []string{"generation 1 exited with status 78 before it was ready", "Last lines of", "SLOW_DELAY"}},
		{"port taken", nil, 1, []string{"address already in use", "set PORT to another one"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := newDaemonEnv(t, c.env...)
			if c.name == "port taken" {
				ln, err := net.Listen("tcp", fmt.Sprintf(":%d", d.port))
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
			}
			code, stdout, stderr := d.run("daemon")
			if code != c.wantCode {
				t.Errorf("want exit %d, got %d\nstdout: %s\nstderr: %s", c.wantCode, code, stdout, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr: want %q in:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(d.pidFile()); !os.IsNotExist(err) {
				t.Errorf("PID file after a failed boot: want none, got %v", err)
			}
			if code, _, _ := d.run("pid"); code != 1 {
				t.Errorf("pid after a failed boot: want exit 1 (nothing runs), got %d", code)
			}
		})
	}
}

func TestDaemonStalePIDFile(t *testing.T) {
	t.Parallel()
	d := newDaemonEnv(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(d.tmp, 0o700)
	os.WriteFile(d.pidFile(), []byte(strconv.Itoa(dead.Process.Pid)+"\n"), 0o644)

	code, _, stderr := d.run("pid")
	if code != 1 || !strings.Contains(stderr, "the file is stale") {
		t.Errorf("pid with a stale PID file: want exit 1 calling it stale, got %d %q", code, stderr)
	}
	code, _, stderr = d.run("daemon")
	if code != 0 {
		t.Fatalf("daemon with a stale PID file: want exit 0, got %d %q", code, stderr)
	}
	if !strings.Contains(stderr, "ignoring the stale PID file") {
		t.Errorf("daemon: want a note about the stale PID file, got %q", stderr)
	}
	if pid := readPID(t, d.pidFile()); pid == dead.Process.Pid {
		t.Errorf("PID file: want the new supervisor's pid, still %d", pid)
	}
	d.mustRun("stop")
}

func TestDaemonPIDFileOfAnUnrelatedProcess(t *testing.T) {
	t.Parallel()
	d := newDaemonEnv(t)
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	os.MkdirAll(d.tmp, 0o700)
	os.WriteFile(d.pidFile(), []byte(strconv.Itoa(other.Process.Pid)+"\n"), 0o644)

	for _, cmd := range []string{"pid", "stop"} {
		code, _, stderr := d.run(cmd)
		want := fmt.Sprintf("names pid %d, which does not answer there: the file is stale, and that process was not touched", other.Process.Pid)
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("%s: want exit 1 with %q, got %d %q", cmd, want, code, stderr)
		}
	}
	d.mustRun("daemon")
	d.mustRun("stop")
	if err := other.Process.Signal(syscall.Signal(0)); err != nil || gone(other.Process.Pid) {
		t.Fatalf("the unrelated process %d must survive pid, stop, daemon and stop; it is gone (%v)", other.Process.Pid, err)
	}
}

func TestDaemonTwice(t *testing.T) {
	t.Parallel()
	d := newDaemonEnv(t)
	d.mustRun("daemon")
	pid := readPID(t, d.pidFile())
	want := fmt.Sprintf("already running (pid %d)", pid)
	for _, cmd := range []string{"daemon", "start"} {
		code, _, stderr := d.run(cmd)
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("%s while a daemon runs: want exit 1 with %q, got %d %q", cmd, want, code, stderr)
		}
	}
	if got := readPID(t, d.pidFile()); got != pid {
		t.Errorf("PID file: want the first daemon's %d, got %d", pid, got)
	}
	d.mustRun("stop")
}

func TestStopAForegroundStart(t *testing.T) {
	t.Parallel()
	d := newDaemonEnv(t)
	cmd := exec.Command(os.Args[0], "start")
	cmd.Env = append([]string{"RELKIT_TEST_EXEC=1", "LOG_FORMAT=json", "PATH=" + os.Getenv("PATH")}, d.env...)
	logs := &testkit.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	waitLog(t, logs, "HTTP server listening")
	d.get("/")
	if got := d.mustRun("pid"); got != fmt.Sprintf("%d\n", cmd.Process.Pid) {
		t.Errorf("pid of a foreground start: want %d, got %q", cmd.Process.Pid, got)
	}
	if out := d.mustRun("rpc", "hits"); out != fmt.Sprintf("hits=1 pid=%d\n", cmd.Process.Pid) {
		t.Errorf("rpc on a foreground start: want it to run in that process, got %q", out)
	}
	code, _, stderr := d.run("restart")
	if code != 1 || !strings.Contains(stderr, "runs in the foreground") {
		t.Errorf("restart of a foreground start: want exit 1 explaining why, got %d %q", code, stderr)
	}
	// A switch needs a supervisor, which a development build's start has
	// not.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := control.Call(ctx, d.socket(), control.Request{Op: control.OpUpgrade, Args: []string{"2.0.0"}}, control.Output{})
	if err != nil || res.Status != 1 || !strings.Contains(res.Error, "runs without a supervisor") {
		t.Errorf("upgrade request to a foreground start: want status 1 saying it has no supervisor, got %+v, %v", res, err)
	}
	if out := d.mustRun("stop"); out != "testapp stopped\n" {
		t.Errorf("stop: want %q, got %q", "testapp stopped\n", out)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("start after stop: want exit 0, got %v\n%s", err, logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("start did not exit after stop")
	}
	if !strings.Contains(logs.String(), "stop requested on the control socket") {
		t.Errorf("start's log must give the reason it stopped; got:\n%s", logs)
	}
}

func TestDaemonHeart(t *testing.T) {
	t.Parallel()
	d := newDaemonEnv(t, "RELEASE_HEART_MAX_RESTARTS=1", "RELEASE_HEART_WINDOW=1m")
	d.mustRun("daemon")
	pid := readPID(t, d.pidFile())
	appPID := func() string {
		_, out, _ := d.run("rpc", "hits")
		_, p, _ := strings.Cut(strings.TrimSpace(out), "pid=")
		return p
	}
	first := appPID()
	d.get("/crash")
	waitUntil(t, "the app restarted after its crash", func() bool {
		p := appPID()
		return p != "" && p != first
	})
	if code, body := d.get("/"); code != 200 {
		t.Errorf("after a crash: want the restarted app serving, got %d %q", code, body)
	}
	if got := readPID(t, d.pidFile()); got != pid {
		t.Errorf("PID file across the restart: want the supervisor's %d, got %d", pid, got)
	}
	// A second crash within the window is one too many.
	d.get("/crash")
	waitUntil(t, "the heart to give up", func() bool { return gone(pid) })
	if _, err := os.Stat(d.pidFile()); !os.IsNotExist(err) {
		t.Errorf("PID file after giving up: want removed, got %v", err)
	}
	log := d.logText()
	for _, want := range []string{`"msg":"app crashed"`, "heart: restarting the app", "heart gave up: testapp crashed 2 times within 1m0s"} {
		if !strings.Contains(log, want) {
			t.Errorf("log: want %q; log:\n%s", want, log)
		}
	}
}

// TestDaemonBootFailureShowsTheCauseFirst: after an earlier run filled the
// log, a boot that fails on the app's configuration leads with the app's
// Error: lines and shows no line from the earlier run.
func TestDaemonBootFailureShowsTheCauseFirst(t *testing.T) {
	t.Parallel()
	d := newDaemonEnv(t)
	if code, _, stderr := d.run("daemon"); code != 0 {
		t.Fatalf("daemon: want exit 0, got %d\n%s", code, stderr)
	}
	if code, _, stderr := d.run("stop"); code != 0 {
		t.Fatalf("stop: want exit 0, got %d\n%s", code, stderr)
	}
	earlier, err := os.ReadFile(d.log)
	if err != nil || !strings.Contains(string(earlier), `"msg":"serving"`) {
		t.Fatalf("the first run's log: want its 'serving' line, got %v\n%s", err, earlier)
	}
	d.env = append(d.env, "SLOW_DELAY=soon")
	code, _, stderr := d.run("daemon")
	if code != 78 {
		t.Fatalf("daemon with a bad app setting: want exit 78, got %d\n%s", code, stderr)
	}
	if want := "Error: testapp failed to start:\n  Error: invalid configuration:\n    SLOW_DELAY"; !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr: want it to begin with the app's own error\n%q\ngot\n%s", want, stderr)
	}
	if strings.Contains(stderr, `"msg":"serving"`) {
		t.Errorf("stderr: want this boot's lines only, got the earlier run's 'serving' line too:\n%s", stderr)
	}
}

// TestEvalOfAPanickingTask: eval treats a panic as rpc does: exit 1 with
// "task NAME panicked: …", the stack in the log, not a raw Go panic (exit 2).
func TestEvalOfAPanickingTask(t *testing.T) {
	t.Parallel()
	d := newDaemonEnv(t)
	code, _, stderr := d.run("eval", "panic")
	if code != 1 {
		t.Errorf("eval of a panicking task: want exit 1, got %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "Error: task panic panicked: the task panicked on purpose") {
		t.Errorf("stderr: want the panic reported as the task's failure, got\n%s", stderr)
	}
	if strings.Contains(stderr, "goroutine ") && !strings.Contains(stderr, `"msg":"task panicked"`) {
		t.Errorf("stderr: want the stack only in the log line, got a raw panic\n%s", stderr)
	}
	if !strings.Contains(stderr, `"msg":"task panicked"`) || !strings.Contains(stderr, `"stack":"goroutine `) {
		t.Errorf("log: want an error line with the stack, got\n%s", stderr)
	}
}

// TestDaemonRefusesUnsafeRuntimeFiles: a group-writable RELEASE_TMP, and a
// log file planted as a symbolic link to another file, are refused with
// exit 78 naming what is wrong, and nothing is written through the link.
func TestDaemonRefusesUnsafeRuntimeFiles(t *testing.T) {
	t.Parallel()
	t.Run("group-writable RELEASE_TMP", func(t *testing.T) {
		t.Parallel()
		d := newDaemonEnv(t)
		if err := os.MkdirAll(d.tmp, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d.tmp, 0o770)
		code, _, stderr := d.run("daemon")
		if code != 78 || !strings.Contains(stderr, d.tmp) {
			t.Errorf("daemon with a group-writable RELEASE_TMP: want exit 78 naming %s, got %d\n%s", d.tmp, code, stderr)
		}
	})
	t.Run("log file a symlink", func(t *testing.T) {
		t.Parallel()
		d := newDaemonEnv(t)
		if err := os.MkdirAll(filepath.Dir(d.log), 0o700); err != nil {
			t.Fatal(err)
		}
		victim := filepath.Join(t.TempDir(), "victim")
		if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(victim, d.log); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := d.run("daemon")
		if code != 78 || !strings.Contains(stderr, d.log) {
			t.Errorf("daemon with the log file a symlink: want exit 78 naming %s, got %d\n%s", d.log, code, stderr)
		}
		if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
			t.Errorf("the file the planted link points to was written: %q", b)
		}
	})
}
