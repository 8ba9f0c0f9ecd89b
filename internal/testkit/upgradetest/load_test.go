package upgradetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit/loadgen"
)

// TestUpgradesUnderLoad switches between hello 1.0.0 and 2.0.0 ten times
// while keep-alive clients and clients opening a connection per request
// POST to it on loopback: no request may fail and no connection may be
// refused. It runs alone (not in parallel), bounded to two minutes.
func TestUpgradesUnderLoad(t *testing.T) {
	v1, v2 := helloV1.get(t), helloV2.get(t)
	s := install(t, "hello", v1)
	s.start()
	s.put("2.0.0", v2)
	run := loadgen.Start(loadgen.Options{
		URL: fmt.Sprintf("http://127.0.0.1:%d/", s.port), KeepAlive: 4, PerRequest: 4, Limit: 2 * time.Minute,
		Check: func(status int, body []byte) error {
			if status != 200 || !strings.HasPrefix(string(body), "Hello from hello ") {
				return fmt.Errorf("status %d, body %q", status, body)
			}
			return nil
		},
	})
	stopped := false
	defer func() {
		if !stopped {
			run.Stop()
		}
	}()
	waitOK := func(n int64) {
		t.Helper()
		want := run.OK() + n
		deadline := time.Now().Add(30 * time.Second)
		for run.OK() < want {
			if time.Now().After(deadline) {
				t.Fatalf("load: fewer than %d answers within 30s; log:\n%s", n, s.logs)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	const switches = 10
	waitOK(200)
	for i := range switches {
		cmd, vsn := "upgrade", "2.0.0"
		if i%2 == 1 {
			cmd, vsn = "downgrade", "1.0.0"
		}
		s.mustRun(cmd, vsn)
		if got := s.body("/"); got != "Hello from hello "+vsn+"\n" {
			t.Fatalf("after %s %s: got %q", cmd, vsn, got)
		}
		waitOK(200)
	}
	res := run.Stop()
	stopped = true
	t.Logf("%d requests in %v during %d switches: %d failed, %d refused; answers: %v",
		res.OK+res.Failed, res.Elapsed.Round(time.Millisecond), switches, res.Failed, res.Refused, res.Seen)
	if res.Failed != 0 || res.Refused != 0 {
		t.Errorf("want no failed request and no refused connection, got %d failed (%d refused): %q", res.Failed, res.Refused, res.Errors)
	}
	for _, v := range []string{"1.0.0", "2.0.0"} {
		if res.Seen["Hello from hello "+v] == 0 {
			t.Errorf("no request was answered by %s: %v", v, res.Seen)
		}
	}
	if want := fmt.Sprintf("%d\n", s.pid()); s.mustRun("pid") != want {
		t.Errorf("pid after %d switches: want %s", switches, want)
	}
}
