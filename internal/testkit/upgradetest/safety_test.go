package upgradetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

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
