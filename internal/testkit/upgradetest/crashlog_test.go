package upgradetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var exitLogger = &build{pkg: "./internal/testkit/upgradetest/testdata/exitlogger", version: "1.0.0"}

// TestNoLogLineIsLostInACrash: an app under the daemon logs N lines from
// several goroutines, then os.Exit(1)s from a handler: all N lines are in
// the daemon's log file (with batching inside the app, the last batch
// died with it).
func TestNoLogLineIsLostInACrash(t *testing.T) {
	t.Parallel()
	const n = 5000
	s := install(t, "exitlogger", exitLogger.get(t))
	t.Cleanup(func() { s.run("stop") })
	s.mustRun("daemon")
	if _, _, err := s.get("/exit?n=5000"); err == nil {
		t.Fatal("GET /exit answered: the app did not exit")
	}
	logFile := filepath.Join(s.root, "log", "exitlogger.log")
	count := func() int {
		b, _ := os.ReadFile(logFile)
		return strings.Count(string(b), `"msg":"before the crash"`)
	}
	// The supervisor writes what it batched within 100 ms of the child's
	// end; wait for the heart's next generation to serve, then a bounded
	// while for the count.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if code, _, err := s.get("/"); err == nil && code == 200 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := count()
	for end := time.Now().Add(2 * time.Second); got < n && time.Now().Before(end); got = count() {
		time.Sleep(50 * time.Millisecond)
	}
	if got != n {
		t.Errorf("%s holds %d of the %d lines logged before os.Exit(1): %d lost", logFile, got, n, n-got)
	}
}
