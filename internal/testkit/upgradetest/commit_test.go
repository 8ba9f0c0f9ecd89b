package upgradetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitLog waits until the system's log holds want, and fails after 60s.
func (s *system) waitLog(want string) {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(s.logs.String(), want) {
		if time.Now().After(deadline) {
			s.t.Fatalf("the log never said %q:\n%s", want, s.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serving waits until GET / answers the same version for half a second
// and returns it.
func (s *system) serving() string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last, since := "", time.Now()
	for time.Now().Before(deadline) {
		if code, body, err := s.get("/"); err == nil && code == 200 {
			if body != last {
				last, since = body, time.Now()
			} else if time.Since(since) > 500*time.Millisecond {
				return strings.TrimPrefix(strings.TrimSpace(body), "Hello from hello ")
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("GET / never settled; last %q; log:\n%s", last, s.logs)
	return ""
}

// checkRecorded checks that RELEASES, bin/hello and releases agree that
// vsn runs and is permanent.
func (s *system) checkRecorded(when, vsn string) {
	s.t.Helper()
	out := s.mustRun("releases")
	if !strings.Contains(out, vsn+"    permanent  yes") || !strings.Contains(out, "hello "+vsn+" runs") {
		s.t.Errorf("%s: releases should show %s permanent and running, got:\n%s", when, vsn, out)
	}
	if link, _ := os.Readlink(s.bin()); link != "../releases/"+vsn+"/hello" {
		s.t.Errorf("%s: bin/hello points to %q, want ../releases/%s/hello", when, link, vsn)
	}
}

// TestInterruptedUpgradeLeavesTheTruth kills (SIGKILL) or hangs up (SIGHUP)
// the upgrade command at several moments: whatever happens to it, the
// supervisor commits the switch the moment 2.0.0 is ready, so RELEASES and
// bin/ name what serves, and a reboot (stop, daemon) starts it.
func TestInterruptedUpgradeLeavesTheTruth(t *testing.T) {
	t.Parallel()
	v1, v2 := helloV1.get(t), slowV2.get(t)
	for _, tc := range []struct {
		name   string
		sig    syscall.Signal
		marker string // the log line after which the signal is sent; "": at once
		want   string // the release that serves afterwards
	}{
		{"kill before unpack", syscall.SIGKILL, "", "1.0.0"},
		{"kill while 2.0.0 boots", syscall.SIGKILL, "warming up for 3s", "1.0.0"},
		{"hangup while 2.0.0 boots", syscall.SIGHUP, "warming up for 3s", "1.0.0"},
		{"kill during the drain", syscall.SIGKILL, "upgrade: new generation ready; stopping the old one", "2.0.0"},
		{"hangup during the drain", syscall.SIGHUP, "upgrade: new generation ready; stopping the old one", "2.0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := install(t, "hello", v1)
			s.start()
			s.put("2.0.0", v2)
			cmd := exec.Command(s.bin(), "upgrade", "2.0.0")
			cmd.Dir, cmd.Env = s.root, s.env
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tc.marker != "" {
				s.waitLog(tc.marker)
			}
			cmd.Process.Signal(tc.sig)
			cmd.Wait()
			if tc.want == "2.0.0" {
				s.waitLog("upgrade: done")
			}
			if got := s.serving(); got != tc.want {
				t.Fatalf("after the interrupted upgrade: want %s serving, got %s; log:\n%s", tc.want, got, s.logs)
			}
			s.checkRecorded("after the interrupted upgrade", tc.want)
			if _, err := s.stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			if out := s.mustRun("daemon"); !strings.HasPrefix(out, "hello "+tc.want+" started") {
				t.Errorf("daemon after the interrupted upgrade: want %s started, got %q", tc.want, out)
			}
			if got := s.body("/"); got != "Hello from hello "+tc.want+"\n" {
				t.Errorf("the reboot serves %q, want %s", got, tc.want)
			}
			s.mustRun("stop")
		})
	}
}

// TestRerunRepairsTheRecord: upgrade to the running release exits 0 and
// repairs RELEASES and bin/ when they name another release.
func TestRerunRepairsTheRecord(t *testing.T) {
	t.Parallel()
	s := install(t, "hello", helloV1.get(t))
	s.start()
	s.put("2.0.0", helloV2.get(t))
	s.mustRun("upgrade", "2.0.0")
	// What an old relkit's dropped upgrade left: bin/ and RELEASES on 1.0.0.
	os.Remove(s.bin())
	os.Symlink("../releases/1.0.0/hello", s.bin())
	os.WriteFile(filepath.Join(s.root, "releases", "RELEASES"), []byte("1.0.0 permanent\n2.0.0 unpacked\n"), 0o644)
	out := s.mustRun("upgrade", "2.0.0")
	if !strings.HasSuffix(out, "2.0.0 is running already; nothing to do\n") || !strings.Contains(out, "Repaired") {
		t.Errorf("re-run: got %q", out)
	}
	s.checkRecorded("after the re-run", "2.0.0")
	if out := s.mustRun("upgrade", "2.0.0"); out != "2.0.0 is running already; nothing to do\n" {
		t.Errorf("second re-run: got %q", out)
	}
	hist := s.mustRun("releases", "-history")
	if !strings.Contains(hist, "\t1.0.0\t2.0.0\tupgrade ok\t") {
		t.Errorf("releases -history: want the upgrade's line, got:\n%s", hist)
	}
}

// TestProbationRollsBack upgrades to a 2.0.0 that crashes 1.5s after it is
// ready: within the probation window the supervisor switches back to
// 1.0.0, which serves again and is permanent.
func TestProbationRollsBack(t *testing.T) {
	t.Parallel()
	s := install(t, "hello", helloV1.get(t))
	n := listenNotify(t)
	s.env = append(s.env, "NOTIFY_SOCKET="+n.path)
	s.start()
	s.put("2.0.0", lateV2.get(t))
	s.mustRun("upgrade", "2.0.0")
	began := time.Now()
	s.waitLog("probation: switched back to 1.0.0")
	if got := s.serving(); got != "1.0.0" {
		t.Fatalf("after the crash in probation: want 1.0.0 serving, got %s", got)
	}
	t.Logf("1.0.0 serves again %v after the upgrade returned", time.Since(began).Round(time.Millisecond))
	s.checkRecorded("after the rollback", "1.0.0")
	n.waitFor(t, 0, "STATUS=probation: hello 2.0.0 crashed")
	hist := s.mustRun("releases", "-history")
	if !strings.Contains(hist, "\t2.0.0\t1.0.0\trollback ok\t") {
		t.Errorf("releases -history: want the rollback's line, got:\n%s", hist)
	}
	if !strings.Contains(s.logs.String(), `"level":"ERROR","msg":"probation: hello 2.0.0 crashed`) {
		t.Errorf("the rollback is not logged at error level:\n%s", s.logs)
	}
}
