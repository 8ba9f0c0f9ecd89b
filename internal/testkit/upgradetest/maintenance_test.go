package upgradetest

import (
	"fmt"
	"time"

	"github.com/relkit/relkit/internal/testkit/loadgen"
	"strings"
	"testing"
)

// TestMaintenanceOfADaemon turns maintenance on for a daemon, checks the
// 503 page escapes the message while health stays 200, that the state
// survives a restart and an upgrade, and that off serves the app again.
func TestMaintenanceOfADaemon(t *testing.T) {
	t.Parallel()
	v1, v2 := helloV1.get(t), helloV2.get(t)
	s := install(t, "hello", v1)
	t.Cleanup(func() { s.run("stop") })
	s.mustRun("daemon")
	s.body("/")
	s.mustRun("maintenance", "on", "-message", "<b>x</b>", "-retry-after", "30")
	closed := func(when string) {
		t.Helper()
		code, body, err := s.get("/")
		if err != nil || code != 503 || strings.Contains(body, "<b>x</b>") || !strings.Contains(body, "&lt;b&gt;x&lt;/b&gt;") {
			t.Fatalf("%s: want 503 with the message escaped, got %d %q %v", when, code, body, err)
		}
		s.body("/readyz")
		s.body("/healthz")
	}
	closed("maintenance on")
	if out := s.mustRun("maintenance"); !strings.Contains(out, "maintenance: on (retry after 30s)") {
		t.Errorf("maintenance status: got %q", out)
	}
	s.mustRun("restart")
	closed("after restart")
	s.put("2.0.0", v2)
	s.mustRun("upgrade", "2.0.0")
	closed("after upgrade")
	s.mustRun("maintenance", "off")
	if got := s.body("/"); got != "Hello from hello 2.0.0\n" {
		t.Errorf("after maintenance off: want hello 2.0.0, got %q", got)
	}
	if out := s.mustRun("maintenance"); !strings.Contains(out, "maintenance: off") {
		t.Errorf("maintenance status: got %q", out)
	}
}

// TestMaintenanceUnderLoad toggles maintenance while clients send requests:
// no request fails with anything but the intended 503.
func TestMaintenanceUnderLoad(t *testing.T) {
	s := install(t, "hello", helloV1.get(t))
	t.Cleanup(func() { s.run("stop") })
	s.mustRun("daemon")
	s.body("/")
	run := loadgen.Start(loadgen.Options{
		URL: fmt.Sprintf("http://127.0.0.1:%d/", s.port), KeepAlive: 4, PerRequest: 4, Limit: 2 * time.Minute,
		Check: func(status int, body []byte) error {
			switch {
			case status == 200 && strings.HasPrefix(string(body), "Hello from hello "):
			case status == 503 && strings.Contains(string(body), "closed &amp; back soon"):
			default:
				return fmt.Errorf("status %d, body %q", status, body)
			}
			return nil
		},
	})
	waitOK := func(n int64) {
		t.Helper()
		want := run.OK() + n
		deadline := time.Now().Add(30 * time.Second)
		for run.OK() < want {
			if time.Now().After(deadline) {
				run.Stop()
				t.Fatalf("load: fewer than %d answers within 30s", n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitOK(200)
	for range 5 {
		s.mustRun("maintenance", "on", "-message", "closed & back soon")
		waitOK(200)
		s.mustRun("maintenance", "off")
		waitOK(200)
	}
	res := run.Stop()
	t.Logf("load: %d answers (%v), %d failed", res.OK, res.Seen, res.Failed)
	if res.Failed != 0 {
		t.Fatalf("load: %d requests failed: %v", res.Failed, res.Errors)
	}
}
