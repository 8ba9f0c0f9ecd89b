package upgradetest

import (
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
