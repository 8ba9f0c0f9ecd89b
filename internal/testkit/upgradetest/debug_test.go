package upgradetest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
	"github.com/relkit/relkit/internal/testkit/testuser"
)

// TestDebugOfADaemon asks a daemon for its stacks and its heap, CPU,
// block and mutex profiles and an execution trace over the control
// socket, and reads the profiles with go tool pprof and the trace with go
// tool trace.
func TestDebugOfADaemon(t *testing.T) {
	t.Parallel()
	s := install(t, "hello", helloV1.get(t))
	t.Cleanup(func() { s.run("stop") })
	s.mustRun("daemon")
	s.body("/")
	if out := s.mustRun("debug", "stack"); !strings.Contains(out, "net/http.(*Server).Serve(") {
		t.Errorf("debug stack: want the server's accept loop, got:\n%.2000s", out)
	}
	dir := t.TempDir()
	for _, args := range [][]string{{"heap"}, {"cpu", "-seconds", "1"}, {"block", "-seconds", "1"}, {"mutex", "-seconds", "1"}, {"trace", "-seconds", "1"}} {
		f := filepath.Join(dir, args[0]+".out")
		s.mustRun(append(append([]string{"debug"}, args...), "-o", f)...)
		tool := []string{"tool", "pprof", "-top", f}
		if args[0] == "trace" {
			// -d=parsed prints the trace's events: it fails on a file
			// that is not a whole trace.
			tool = []string{"tool", "trace", "-d=parsed", f}
		}
		out, err := exec.Command("go", tool...).CombinedOutput()
		if err != nil || (args[0] == "trace" && !strings.Contains(string(out), "StateTransition")) {
			t.Errorf("go %s (debug %s): %v\n%.2000s", strings.Join(tool, " "), args[0], err, out)
		}
		if code, _, stderr := s.run(append(append([]string{"debug"}, args...), "-o", f)...); code != 1 || !strings.Contains(stderr, "exists") {
			t.Errorf("debug %s over an existing file: want exit 1 saying it exists, got %d %q", args[0], code, stderr)
		}
	}
	if code, _, stderr := s.run("debug", "heap"); code != 64 || !strings.Contains(stderr, "-o FILE") {
		t.Errorf("debug heap without -o: want exit 64 naming -o FILE, got %d %q", code, stderr)
	}
	if code, _, stderr := s.run("debug", "trace", "-seconds", "0", "-o", filepath.Join(dir, "t0")); code != 64 || !strings.Contains(stderr, "1 to 300") {
		t.Errorf("debug trace -seconds 0: want exit 64 naming 1 to 300, got %d %q", code, stderr)
	}
}

// TestDebugStatsOfADaemon reads a daemon's numbers while it serves and
// checks that they count the requests it served.
func TestDebugStatsOfADaemon(t *testing.T) {
	t.Parallel()
	s := install(t, "hello", helloV1.get(t))
	t.Cleanup(func() { s.run("stop") })
	s.mustRun("daemon")
	for range 7 {
		s.body("/")
	}
	var st struct {
		Name       string  `json:"name"`
		Version    string  `json:"version"`
		Generation int     `json:"generation"`
		PID        int     `json:"pid"`
		Uptime     float64 `json:"uptime_seconds"`
		Goroutines int     `json:"goroutines"`
		LogLevel   string  `json:"log_level"`
		Heap       struct {
			InUse uint64 `json:"in_use_bytes"`
		} `json:"heap"`
		GC struct {
			Cycles uint64 `json:"cycles"`
		} `json:"gc"`
		HTTP *struct {
			Connections int64  `json:"connections"`
			InFlight    int64  `json:"in_flight"`
			Requests    uint64 `json:"requests"`
		} `json:"http"`
	}
	out := s.mustRun("debug", "stats", "-json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("debug stats -json: %v\n%s", err, out)
	}
	if st.Name != "hello" || st.Version != "1.0.0" || st.Generation != 1 || st.PID <= 0 || st.Goroutines < 2 || st.Heap.InUse == 0 || st.LogLevel != "INFO" {
		t.Errorf("debug stats -json: want hello 1.0.0 generation 1 with its pid, goroutines, heap and level INFO, got %s", out)
	}
	// 7 requests of this test, and those of daemon's own readiness wait.
	if st.HTTP == nil || st.HTTP.Requests < 7 || st.HTTP.InFlight != 0 {
		t.Errorf("debug stats -json: want at least 7 requests served, none in flight, got %s", out)
	}
	text := s.mustRun("debug", "stats")
	for _, want := range []string{"hello 1.0.0 (generation 1", "goroutines", "heap", "gc", "connections", fmt.Sprintf("%d served", st.HTTP.Requests)} {
		if !strings.Contains(text, want) {
			t.Errorf("debug stats: want %q in:\n%s", want, text)
		}
	}
	s.mustRun("restart")
	if out := s.mustRun("debug", "stats", "-json"); !strings.Contains(out, `"generation": 2`) {
		t.Errorf("debug stats -json after restart: want generation 2, got %s", out)
	}
}

// TestDebugLogLevelOfADaemon turns on debug logging for two seconds: the
// health probes, logged at debug level, appear in the log, and after the
// two seconds they no longer do.
func TestDebugLogLevelOfADaemon(t *testing.T) {
	t.Parallel()
	s := install(t, "hello", helloV1.get(t))
	t.Cleanup(func() { s.run("stop") })
	s.mustRun("daemon")
	probe := func(tag string) bool {
		t.Helper()
		s.hit("/healthz?" + tag)
		s.hit("/after-" + tag) // an info line that follows the probe's
		lines := s.waitLogFile(`"path":"/after-` + tag + `"`)
		for _, l := range lines {
			if strings.Contains(l, `"level":"DEBUG"`) && strings.Contains(l, `"path":"/healthz"`) {
				return true
			}
		}
		return false
	}
	if probe("before") {
		t.Fatal("a health probe is logged before debug log-level: the test cannot tell a change")
	}
	out := s.mustRun("debug", "log-level", "debug", "-for", "2s")
	if !strings.Contains(out, "log level: DEBUG for 2s, then INFO") {
		t.Errorf("debug log-level debug -for 2s: got %q", out)
	}
	set := time.Now()
	if !probe("during") {
		t.Fatal("no health probe logged at debug level after debug log-level debug")
	}
	s.waitLogFile("log level set back by debug log-level -for")
	if d := time.Since(set); d < 2*time.Second-100*time.Millisecond {
		t.Errorf("the level went back after %v, before -for 2s", d)
	}
	// Truncate what the log holds so far, then probe again.
	before, _ := s.logLines()
	s.hit("/healthz?after")
	s.hit("/after-after")
	lines := s.waitLogFile(`"path":"/after-after"`)
	for _, l := range lines[len(before):] {
		if strings.Contains(l, `"level":"DEBUG"`) {
			t.Errorf("a debug line after the level went back: %q", l)
		}
	}
	if code, _, stderr := s.run("debug", "log-level", "loud"); code != 64 || !strings.Contains(stderr, "not a log level") {
		t.Errorf("debug log-level loud: want exit 64, got %d %q", code, stderr)
	}
}

// TestDebugRefusesAnotherUser makes a daemon's control socket reachable by
// another user (as a careless chmod would) and checks that the app still
// refuses that user's debug requests: the peer's uid is checked.
func TestDebugRefusesAnotherUser(t *testing.T) {
	u := testuser.Get(t) // skips without root, fails under CI=true
	root := testkit.ShortTempDir(t)
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(root); d != "/"; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil || st.Mode().Perm()&0o001 == 0 {
			testkit.Unavailable(t, "%s is not searchable by other users, so %s cannot reach the release", d, u.Name)
		}
	}
	s := installIn(t, root, "hello", helloV1.get(t))
	t.Cleanup(func() { s.run("stop") })
	s.mustRun("daemon")
	sock, _ := filepath.Glob(filepath.Join(root, "tmp", "*.sock"))
	if len(sock) == 0 {
		t.Fatalf("no control socket in %s/tmp", root)
	}
	for _, p := range append(sock, filepath.Join(root, "tmp")) {
		os.Chmod(p, 0o777)
	}
	for _, args := range [][]string{{"debug", "stack"}, {"debug", "stats"}, {"debug", "log-level", "debug"}} {
		cmd := exec.Command(s.bin(), args...)
		cmd.Dir, cmd.Env = root, s.env
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID)}}
		out, err := cmd.CombinedOutput()
		if err == nil || strings.Contains(string(out), "goroutine ") || strings.Contains(string(out), "log level:") {
			t.Errorf("%v as %s: want refused, got %v\n%s", args, u.Name, err, out)
		} else {
			t.Logf("%v as %s: %v: %s", args, u.Name, err, out)
		}
	}
	if out := s.mustRun("debug", "stats", "-json"); !strings.Contains(out, `"log_level": "INFO"`) {
		t.Errorf("the log level changed after another user's request: %s", out)
	}
}
