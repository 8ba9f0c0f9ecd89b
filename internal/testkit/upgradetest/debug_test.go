package upgradetest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDebugOfADaemon asks a daemon for its stacks and its heap and CPU
// profiles over the control socket, and reads the profiles with go tool
// pprof.
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
	for _, args := range [][]string{{"heap"}, {"cpu", "-seconds", "1"}} {
		f := filepath.Join(dir, args[0]+".pprof")
		s.mustRun(append(append([]string{"debug"}, args...), "-o", f)...)
		out, err := exec.Command("go", "tool", "pprof", "-top", f).CombinedOutput()
		if err != nil {
			t.Errorf("go tool pprof -top %s (debug %s): %v\n%s", f, args[0], err, out)
		}
		if code, _, stderr := s.run(append(append([]string{"debug"}, args...), "-o", f)...); code != 1 || !strings.Contains(stderr, "exists") {
			t.Errorf("debug %s over an existing file: want exit 1 saying it exists, got %d %q", args[0], code, stderr)
		}
	}
	if code, _, stderr := s.run("debug", "heap"); code != 64 || !strings.Contains(stderr, "-o FILE") {
		t.Errorf("debug heap without -o: want exit 64 naming -o FILE, got %d %q", code, stderr)
	}
}
