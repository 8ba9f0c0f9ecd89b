package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/control"
)

// install makes the test binary release vsn of the harness's root:
// ROOT/releases/VSN/app, a link to the test binary.
func (h *harness) install(vsn string) string {
	h.t.Helper()
	exe, err := os.Executable()
	if err != nil {
		h.t.Fatal(err)
	}
	dir := filepath.Join(h.dir, "releases", vsn)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		h.t.Fatal(err)
	}
	bin := filepath.Join(dir, "app")
	if err := os.Symlink(exe, bin); err != nil {
		h.t.Fatal(err)
	}
	return bin
}

func (h *harness) upgrade(vsn string, timeout time.Duration) control.Result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := control.Call(ctx, h.ctl, control.Request{Op: control.OpUpgrade, Args: []string{vsn}, TimeoutMS: timeout.Milliseconds()}, control.Output{})
	if err != nil {
		h.t.Fatalf("upgrade %s: %v; log:\n%s", vsn, err, h.out)
	}
	return res
}

func TestUpgradeRunsTheNewReleasesBinary(t *testing.T) {
	t.Parallel()
	h := start(t, "serve", nil)
	h.waitReady()
	before, _ := control.Ping(context.Background(), h.ctl)
	bin := h.install("2.0.0")

	res := h.upgrade("2.0.0", 0)
	if res.Status != 0 || res.Version != "2.0.0" || res.PID == 0 || res.PID == before.ChildPID {
		t.Fatalf("upgrade 2.0.0: want status 0, version 2.0.0 and a new pid, got %+v; log:\n%s", res, h.out)
	}
	if body, err := h.get("/argv0"); err != nil || body != bin+"\n" {
		t.Errorf("the new generation's program: want %s, got %q, %v", bin, body, err)
	}
	if body, _ := h.get("/nonblocking"); body != "true <nil>\n" {
		t.Errorf("fd 3 in the upgraded app: want non-blocking, got %q", body)
	}
	if nb, err := nonblocking(h.ln.(syscall.Conn)); !nb || err != nil {
		t.Errorf("the supervisor's socket after the upgrade: want non-blocking, got %v, %v", nb, err)
	}
	info, err := control.Ping(context.Background(), h.ctl)
	if err != nil || info.Version != "2.0.0" || info.PID != os.Getpid() || info.ChildPID != res.PID {
		t.Errorf("ping after the upgrade: want version 2.0.0 from pid %d with child %d, got %+v, %v", os.Getpid(), res.PID, info, err)
	}
	if alive(before.ChildPID) {
		t.Errorf("the old generation (pid %d) still runs after the upgrade", before.ChildPID)
	}
	// From now on a restart starts release 2.0.0.
	if res, _, _ := h.call(control.OpRestart); res.Status != 0 {
		t.Fatalf("restart after the upgrade: %+v", res)
	}
	if body, _ := h.get("/argv0"); body != bin+"\n" {
		t.Errorf("restart after the upgrade: want %s running, got %q", bin, body)
	}
	if res := h.upgrade("2.0.0", 0); res.Status != 1 || !strings.Contains(res.Error, "release 2.0.0 is running already") {
		t.Errorf("upgrade to the running release: want a refusal, got %+v", res)
	}
	if res := h.upgrade("3.0.0", 0); res.Status != 1 || !strings.Contains(res.Error, "release 3.0.0 is not installed") {
		t.Errorf("upgrade to a release that is not installed: want a refusal, got %+v", res)
	}
	if res := h.upgrade("../2.0.0", 0); res.Status != 64 {
		t.Errorf("upgrade to a path: want status 64, got %+v", res)
	}
}

func TestUpgradeFailureKeepsTheOldReleaseAndReportsTheNewOnesOutput(t *testing.T) {
	t.Parallel()
	h := start(t, "serve", nil)
	h.waitReady()
	before, _ := control.Ping(context.Background(), h.ctl)
	h.install("9.9.9-loud-crash")

	res := h.upgrade("9.9.9-loud-crash", 0)
	for _, want := range []string{
		"the app did not become ready: generation 2 exited with status 2 before it was ready; generation 1 (release 1.0.0) keeps serving",
		"Last lines of release 9.9.9-loud-crash's output:\n  boot line 11\n",
		"boot line 30",
	} {
		if res.Status != 1 || !strings.Contains(res.Error, want) {
			t.Errorf("failed upgrade: want status 1 and %q, got %+v", want, res)
		}
	}
	if strings.Contains(res.Error, "boot line 10\n") {
		t.Errorf("failed upgrade: want only the last 20 lines, got %q", res.Error)
	}
	if body, err := h.get("/"); err != nil || body != fmt.Sprintf("gen 1 pid %d\n", before.ChildPID) {
		t.Errorf("after the failed upgrade: want generation 1 serving, got %q, %v", body, err)
	}
	if info, _ := control.Ping(context.Background(), h.ctl); info.Version != "1.0.0" || info.Generation != 1 {
		t.Errorf("ping after the failed upgrade: want 1.0.0 generation 1, got %+v", info)
	}

	// SIGTERM after the failed upgrade stops the system promptly.
	began := time.Now()
	h.signals <- os.Interrupt
	if err := h.wait(); err != nil {
		t.Fatalf("Run after SIGINT: want nil, got %v", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("stop after a failed upgrade took %v", took)
	}
}

func TestUpgradeTimeout(t *testing.T) {
	t.Parallel()
	h := start(t, "serve", nil)
	h.waitReady()
	h.install("9.9.9-no-ready")
	// Long enough for the child to install its SIGTERM handler however
	// loaded the machine is: the test checks a graceful stop.
	res := h.upgrade("9.9.9-no-ready", 2*time.Second)
	if res.Status != 1 || !strings.Contains(res.Error, "generation 2 (pid") || !strings.Contains(res.Error, "did not report ready within 2s; it was stopped") {
		t.Fatalf("upgrade to a release that never gets ready: want a timeout, got %+v", res)
	}
	if !strings.Contains(h.out.String(), "generation 2 stopped") {
		t.Errorf("the timed-out generation must be stopped gracefully; log:\n%s", h.out)
	}
	if body, err := h.get("/"); err != nil || !strings.HasPrefix(body, "gen 1 ") {
		t.Errorf("after the timed-out upgrade: want generation 1 serving, got %q, %v", body, err)
	}
}

func TestHandoffCarriesStateAcrossGenerations(t *testing.T) {
	t.Parallel()
	h := start(t, "serve", func(c *Config) { c.Env["SUPERVISOR_TEST_STATE"] = "seed" })
	h.waitReady()
	h.install("2.0.0")
	if res, _, _ := h.call(control.OpRestart); res.Status != 0 {
		t.Fatalf("restart: %+v", res)
	}
	if body, _ := h.get("/state"); body != "seed>1\n" {
		t.Errorf("state after a restart: want %q, got %q", "seed>1\n", body)
	}
	if res := h.upgrade("2.0.0", 0); res.Status != 0 {
		t.Fatalf("upgrade: %+v", res)
	}
	if body, _ := h.get("/state"); body != "seed>1>2\n" {
		t.Errorf("state after an upgrade: want %q, got %q", "seed>1>2\n", body)
	}
	if left, _ := filepath.Glob(filepath.Join(h.dir, "*.handoff")); len(left) > 0 {
		t.Errorf("handoff files left behind: %v", left)
	}
}

func TestHandoffExportFailureFailsTheSwitch(t *testing.T) {
	t.Parallel()
	h := start(t, "serve", func(c *Config) { c.Env["SUPERVISOR_TEST_STATE"] = "fail-export" })
	h.waitReady()
	res, _, _ := h.call(control.OpRestart)
	if res.Status != 1 || !strings.Contains(res.Error, "could not export its state: export: failed on purpose") || !strings.Contains(res.Error, "generation 1 keeps serving") {
		t.Fatalf("restart with a failing export: want status 1 explaining it, got %+v", res)
	}
	if body, err := h.get("/"); err != nil || !strings.HasPrefix(body, "gen 1 ") {
		t.Errorf("want generation 1 serving, got %q, %v", body, err)
	}
}

func TestSwitchErrorMatchesNotReady(t *testing.T) {
	t.Parallel()
	err := error(&SwitchError{Op: "upgrade", Release: Release{Version: "2"}, Serving: 1, ServingVersion: "1", Err: fmt.Errorf("%w: boom", ErrNotReady)})
	if !errors.Is(err, ErrNotReady) {
		t.Errorf("want a SwitchError to match ErrNotReady")
	}
	if want := "the app did not become ready: boom; generation 1 (release 1) keeps serving"; err.Error() != want {
		t.Errorf("want %q, got %q", want, err)
	}
}

// TestUpgradeCalledOffByTheRequester: a client that hangs up while the new
// release boots calls the switch off; the old release keeps serving.
func TestUpgradeCalledOffByTheRequester(t *testing.T) {
	t.Parallel()
	h := start(t, "serve", nil)
	h.waitReady()
	h.install("9.9.9-no-ready")
	// The client gives up while the new generation boots (it never gets
	// ready), once that generation says it handles SIGTERM.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer cancel()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if strings.Contains(h.out.String(), "generation 2: signal handlers installed") {
				return
			}
		}
	}()
	_, err := control.Call(ctx, h.ctl, control.Request{Op: control.OpUpgrade, Args: []string{"9.9.9-no-ready"}}, control.Output{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("upgrade with a client giving up: want its context cancelled, got %v", err)
	}
	waitFor(t, 10*time.Second, "the new generation stopped", func() bool {
		return strings.Contains(h.out.String(), "generation 2 stopped")
	}, h.out)
	if body, err := h.get("/"); err != nil || !strings.HasPrefix(body, "gen 1 ") {
		t.Errorf("after the called-off upgrade: want generation 1 serving, got %q, %v", body, err)
	}
	if info, _ := control.Ping(context.Background(), h.ctl); info.Version != "1.0.0" {
		t.Errorf("ping: want 1.0.0 still, got %+v", info)
	}
	h.install("2.0.0")
	if res := h.upgrade("2.0.0", 0); res.Status != 0 {
		t.Errorf("a later upgrade: want success, got %+v", res)
	}
}
