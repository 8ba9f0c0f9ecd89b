package upgradetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sleeps is the number of times the threads of process pid have given up
// the CPU to wait (voluntary context switches; preemptions, which the
// load of the machine decides, are left out), from /proc/PID/task/*/status.
func sleeps(t *testing.T, pid int) int {
	t.Helper()
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if len(files) == 0 {
		t.Fatalf("no /proc/%d/task/*/status: this test needs Linux's /proc", pid)
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a thread that ended
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				c, _ := strconv.Atoi(strings.TrimSpace(v))
				n += c
			}
		}
	}
	return n
}

// TestSupervisorPassesOnABusyLogInBatches: an app logging a line per
// request used to wake its supervisor once per line (the output pipe in
// the runtime's poller signals every write, and each read found one line),
// which cost the supervisor 6 µs of CPU per request, a third of what the
// app spends serving it. Under a steady stream the supervisor now lets
// lines collect in the pipe and reads them together: over 4,000 requests
// on one keep-alive connection its threads may go to sleep at most once
// per 2 lines (the old code: 1.9 to 2.0 times per line, the new 0.11 to
// 0.13 on a quiet machine), and every access line still arrives.
func TestSupervisorPassesOnABusyLogInBatches(t *testing.T) {
	s := install(t, "hello", helloV1.get(t))
	s.start()
	const requests = 4000
	// Warm up the connection and the supervisor's threads.
	for range 50 {
		s.hit("/batch")
	}
	before := sleeps(t, s.pid())
	for range requests {
		s.hit("/batch")
	}
	after := sleeps(t, s.pid())
	// Every line arrives: the 50 warm-up requests and the measured ones.
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(s.logs.String(), `"path":"/batch"`) < 50+requests {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d access lines passed on within 20s", strings.Count(s.logs.String(), `"path":"/batch"`), 50+requests)
		}
		time.Sleep(20 * time.Millisecond)
	}
	perLine := float64(after-before) / requests
	t.Logf("the supervisor's threads slept %d times over %d access lines (%.3f per line)", after-before, requests, perLine)
	if perLine > 0.5 {
		t.Errorf("the supervisor's threads slept %d times over %d access lines (%.2f per line), want at most once per 2 lines: it wakes for each line the app writes", after-before, requests, perLine)
	}
}

// TestDevNullIsNotATerminal: /dev/null is a character device, and
// relkit took every character device for a terminal. A supervisor whose
// output went to /dev/null (`bin/NAME start >/dev/null 2>&1`, a unit with
// StandardError=null) told the app LOG_FORMAT=text, as for a terminal, and
// passed the app's output on a write per line. With LOG_FORMAT unset the
// app must get no LOG_FORMAT from it.
func TestDevNullIsNotATerminal(t *testing.T) {
	s := install(t, "hello", helloV1.get(t))
	env := s.env[:0:0]
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, "LOG_FORMAT=") {
			env = append(env, kv)
		}
	}
	s.env = env
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	s.output = devNull
	s.start()
	apps := children(s.pid())
	if len(apps) != 1 {
		t.Fatalf("the supervisor (pid %d) has children %v, want one app", s.pid(), apps)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", apps[0]))
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(string(b), "\x00") {
		if strings.HasPrefix(kv, "LOG_FORMAT=") {
			t.Errorf("the app runs with %s although LOG_FORMAT is unset and the output is /dev/null, not a terminal", kv)
		}
	}
}
