package upgradetest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
	"github.com/relkit/relkit/internal/testkit/loadgen"
)

// helloLoad starts keep-alive and per-connection clients on s that accept
// only hello's greeting.
func helloLoad(s *system) *loadgen.Run {
	return loadgen.Start(loadgen.Options{
		URL: fmt.Sprintf("http://127.0.0.1:%d/", s.port), KeepAlive: 4, PerRequest: 4, Limit: time.Minute,
		Check: func(status int, body []byte) error {
			if status != 200 || !strings.HasPrefix(string(body), "Hello from hello ") {
				return fmt.Errorf("status %d, body %q", status, strings.TrimSpace(string(body)))
			}
			return nil
		},
	})
}

// TestNotReadyReleaseTakesNoTraffic upgrades a serving hello 1.0.0 to a
// 2.0.0 whose readiness check never passes and whose handler answers 500.
// While the upgrade waits UPGRADE_TIMEOUT for it, every request must still
// be answered by 1.0.0: the new generation accepts nothing before it is
// ready.
func TestNotReadyReleaseTakesNoTraffic(t *testing.T) {
	v1, bad := helloV1.get(t), notReadyV2.get(t)
	s := install(t, "hello", v1, "UPGRADE_TIMEOUT=3s")
	s.start()
	s.put("2.0.0", bad)
	run := helloLoad(s)
	stopped := false
	defer func() {
		if !stopped {
			run.Stop()
		}
	}()
	code, _, stderr := s.run("upgrade", "2.0.0")
	res := run.Stop()
	stopped = true
	if code != 1 {
		t.Fatalf("upgrade to a release that never gets ready: want exit 1, got %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "did not become ready") {
		t.Errorf("stderr: want the readiness failure, got\n%s", stderr)
	}
	t.Logf("%d requests during the failed upgrade: %d failed, %d refused; answers: %v", res.OK+res.Failed, res.Failed, res.Refused, res.Seen)
	if res.OK == 0 {
		t.Fatalf("no request was answered during the upgrade; log:\n%s", s.logs)
	}
	if res.Failed != 0 {
		t.Errorf("want every request answered by 1.0.0, got %d failed: %q", res.Failed, res.Errors)
	}
	if got := s.body("/"); got != "Hello from hello 1.0.0\n" {
		t.Errorf("after the failed upgrade: want hello 1.0.0 serving, got %q", got)
	}
}

// TestInterruptedUpgradeIsRecorded kills the upgrade command (kill -9, and
// SIGHUP as a dropped SSH session sends) once 2.0.0 serves, while 1.0.0
// still drains: the switch happened, so RELEASES and bin/ must say 2.0.0,
// `upgrade 2.0.0` again has nothing to do, and stop + start boots 2.0.0.
func TestInterruptedUpgradeIsRecorded(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			v1, v2 := helloV1.get(t), helloV2.get(t)
			// The old generation keeps serving for 3 s after the new one is
			// ready: the command is interrupted in that window.
			s := install(t, "hello", v1, "DRAIN_DELAY=3s")
			s.start()
			s.put("2.0.0", v2)
			cmd := exec.Command(s.bin(), "upgrade", "2.0.0")
			cmd.Dir, cmd.Env = s.root, s.env
			out := &testkit.Buffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 30*time.Second, "2.0.0 answering", func() bool { return s.fresh("/") == "Hello from hello 2.0.0\n" })
			cmd.Process.Signal(sig)
			cmd.Wait()
			t.Logf("upgrade's output before %v: %q", sig, out)
			// Wait for the old generation to be gone: the supervisor has
			// then finished the switch.
			waitFor(t, 30*time.Second, "1.0.0's generation to exit", func() bool { return len(children(s.pid())) == 1 })

			if want, got := []string{"1.0.0 old", "2.0.0 permanent"}, s.stateLines(); !slices.Equal(want, got) {
				t.Errorf("RELEASES after the interrupted upgrade: want %q, got %q", want, got)
			}
			if target, err := os.Readlink(s.bin()); err != nil || target != "../releases/2.0.0/hello" {
				t.Errorf("bin/hello after the interrupted upgrade: want -> ../releases/2.0.0/hello, got %q (%v)", target, err)
			}
			if got := s.mustRun("upgrade", "2.0.0"); !strings.Contains(got, "2.0.0 is running already; nothing to do") {
				t.Errorf("upgrade 2.0.0 again: want nothing to do, got %q", got)
			}
			if _, err := s.stop(); err != nil {
				t.Fatalf("stop: %v\n%s", err, s.logs)
			}
			s.start()
			if got := s.body("/"); got != "Hello from hello 2.0.0\n" {
				t.Errorf("after stop and start: want 2.0.0, the release that was running, got %q", got)
			}
		})
	}
}

// fresh GETs path on a new connection and returns the body ("" on error).
func (s *system) fresh(path string) string {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d%s", s.port, path))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// waitFor polls cond every 20 ms until it holds, failing the test after
// limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestUpgradeAfterTheSupervisorDied: the supervisor is killed while the
// upgrade waits for a 2.0.0 that never gets ready. The upgrade must not
// claim that 1.0.0 keeps serving: nothing answers any more.
func TestUpgradeAfterTheSupervisorDied(t *testing.T) {
	t.Parallel()
	s, cmd, stdout, stderr := pendingUpgrade(t)
	s.cmd.Process.Kill()
	<-s.done
	err := cmd.Wait()
	if err == nil {
		t.Fatalf("upgrade after the supervisor died: want a failure, got exit 0\n%s", stdout)
	}
	msg := stderr.String()
	if strings.Contains(msg, "keeps serving") {
		t.Errorf("stderr claims a release keeps serving, though nothing runs:\n%s", msg)
	}
	if !strings.Contains(msg, "is not running") || !strings.Contains(msg, "hello daemon") {
		t.Errorf("stderr: want that the system is not running and how to start it, got\n%s", msg)
	}
}

// TestStopDuringAPendingUpgrade: stop while the upgrade waits for a 2.0.0
// that never gets ready. The upgrade fails and must say that the system is
// stopping, not that 1.0.0 keeps serving.
func TestStopDuringAPendingUpgrade(t *testing.T) {
	t.Parallel()
	s, cmd, stdout, stderr := pendingUpgrade(t)
	s.mustRun("stop")
	if err := cmd.Wait(); err == nil {
		t.Fatalf("upgrade cut short by stop: want a failure, got exit 0\n%s", stdout)
	}
	msg := stderr.String()
	if strings.Contains(msg, "keeps serving") || !strings.Contains(msg, "the system is stopping") {
		t.Errorf("stderr: want that the system is stopping, and no claim that a release keeps serving, got\n%s", msg)
	}
}

// pendingUpgrade starts hello 1.0.0 and, in the background, its upgrade
// to a 2.0.0 that never gets ready, and returns once 2.0.0's generation
// runs beside 1.0.0's: the upgrade is then waiting for it.
func pendingUpgrade(t *testing.T) (s *system, cmd *exec.Cmd, stdout, stderr *testkit.Buffer) {
	t.Helper()
	v1, bad := helloV1.get(t), notReadyV2.get(t)
	s = install(t, "hello", v1, "UPGRADE_TIMEOUT=20s")
	s.start()
	s.put("2.0.0", bad)
	cmd = exec.Command(s.bin(), "upgrade", "2.0.0")
	cmd.Dir, cmd.Env = s.root, s.env
	stdout, stderr = &testkit.Buffer{}, &testkit.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, 30*time.Second, "2.0.0's generation to start", func() bool { return len(children(s.pid())) == 2 })
	return s, cmd, stdout, stderr
}
