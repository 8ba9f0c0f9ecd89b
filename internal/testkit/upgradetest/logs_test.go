package upgradetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// logLines returns the lines of the daemon's log files, oldest first, and
// how many of them the current file holds.
func (s *system) logLines() (all []string, inCurrent int) {
	s.t.Helper()
	log := filepath.Join(s.root, "log", s.name+".log")
	for i := 9; i >= 0; i-- {
		f := log
		if i > 0 {
			f = fmt.Sprintf("%s.%d", log, i)
		}
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			s.t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(b) == 0 {
			lines = nil
		}
		all = append(all, lines...)
		if i == 0 {
			inCurrent = len(lines)
		}
	}
	return all, inCurrent
}

// waitLogFile waits until the daemon's log has a line containing each of
// want, in that order, and returns the lines.
func (s *system) waitLogFile(want ...string) []string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		all, _ := s.logLines()
		i := 0
		for _, l := range all {
			if i < len(want) && strings.Contains(l, want[i]) {
				i++
			}
		}
		if i == len(want) {
			return all
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the log has no lines containing %q in that order within 20s:\n%s", want, strings.Join(all, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hit GETs path, which hello answers 404, for its line in the access log.
func (s *system) hit(path string) {
	s.t.Helper()
	if _, _, err := s.get(path); err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
}

// TestLogsAcrossRotation rotates the daemon's log with a small
// RELEASE_LOG_MAX_SIZE and checks that logs -n 5 prints the last five
// lines of the log across the rotated file and the current one, and that
// every line carries the generation and the version.
func TestLogsAcrossRotation(t *testing.T) {
	t.Parallel()
	s := install(t, "hello", helloV1.get(t), "RELEASE_LOG_MAX_SIZE=4K", "RELEASE_LOG_KEEP=3")
	t.Cleanup(func() { s.run("stop") })
	s.mustRun("daemon")
	// One request at a time, each waited for in the log, until a rotation
	// has just happened: the current file has fewer than 5 lines.
	for i := 0; ; i++ {
		if i > 500 {
			t.Fatal("the log did not rotate within 500 requests")
		}
		s.hit(fmt.Sprintf("/rotate-%d", i))
		s.waitLogFile(fmt.Sprintf(`"path":"/rotate-%d"`, i))
		if _, err := os.Stat(filepath.Join(s.root, "log", "hello.log.1")); err != nil {
			continue
		}
		if _, n := s.logLines(); n > 0 && n < 5 {
			break
		}
	}
	all, _ := s.logLines()
	want := all[len(all)-5:]
	out := s.mustRun("logs", "-n", "5", "-json")
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("logs -n 5 -json: want the last 5 lines of the log files\n%s\ngot\n%s", strings.Join(want, "\n"), out)
	}
	text := s.mustRun("logs", "-n", "5")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("logs -n 5: want 5 lines, got %d:\n%s", len(lines), text)
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "{") || !strings.Contains(l, "INF request") || !strings.Contains(l, "generation=1") || !strings.Contains(l, "version=1.0.0") {
			t.Errorf("logs -n 5: want a text line of a request of generation 1 of 1.0.0, got %q", l)
		}
	}
	for _, l := range all {
		var rec struct {
			Generation int    `json:"generation"`
			Version    string `json:"version"`
			Component  string `json:"component"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Errorf("log line is not JSON: %q", l)
			continue
		}
		if rec.Component != "supervisor" && (rec.Generation != 1 || rec.Version != "1.0.0") {
			t.Errorf("app log line without generation 1 and version 1.0.0: %q", l)
		}
	}
	var sevens []string
	for _, l := range all {
		if strings.Contains(l, `7"`) && strings.Contains(l, `"path":"/rotate-`) {
			sevens = append(sevens, l+"\n")
		}
	}
	if out := s.mustRun("logs", "-grep", `rotate-[0-9]*7"`, "-json"); len(sevens) == 0 || out != strings.Join(sevens, "") {
		t.Errorf("logs -grep: want the lines of /rotate-*7\n%s\ngot:\n%s", strings.Join(sevens, ""), out)
	}
	if out := s.mustRun("logs", "-since", "1h", "-json"); strings.Count(out, "\n") != len(all) {
		t.Errorf("logs -since 1h: want all %d lines, got %d", len(all), strings.Count(out, "\n"))
	}
	if out := s.mustRun("logs", "-since", time.Now().Add(time.Hour).Format(time.RFC3339)); out != "" {
		t.Errorf("logs -since an hour from now: want nothing, got:\n%s", out)
	}
	if code, _, stderr := s.run("logs", "-since", "yesterday"); code != 64 || !strings.Contains(stderr, "Try: hello logs -since 10m") {
		t.Errorf("logs -since yesterday: want exit 64 with a Try line, got %d %q", code, stderr)
	}
}

// TestLogsFollowAcrossRestart follows the daemon's log while it serves,
// restarts and serves again: logs -f prints the lines of both generations
// in the order they happened, and exits 0 on SIGINT.
func TestLogsFollowAcrossRestart(t *testing.T) {
	t.Parallel()
	s := install(t, "hello", helloV1.get(t))
	t.Cleanup(func() { s.run("stop") })
	s.mustRun("daemon")
	s.hit("/before-follow")
	s.waitLogFile(`"path":"/before-follow"`)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin(), "logs", "-f", "-json", "-n", "1")
	cmd.Dir, cmd.Env = s.root, s.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen []string
	waitLine := func(sub string) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("logs -f ended before a line containing %q; it printed:\n%s\nstderr: %s", sub, strings.Join(seen, "\n"), stderr.String())
				}
				seen = append(seen, l)
				if strings.Contains(l, sub) {
					return
				}
			case <-timeout:
				t.Fatalf("logs -f printed no line containing %q within 20s; it printed:\n%s", sub, strings.Join(seen, "\n"))
			}
		}
	}
	waitLine(`"path":"/before-follow"`) // -n 1: the last line before it started
	s.hit("/while-following")
	waitLine(`"path":"/while-following"`)
	s.mustRun("restart")
	waitLine(`restart: done`)
	s.hit("/after-restart")
	waitLine(`"path":"/after-restart"`)

	// The story of the restart, in order: generation 2 starts and is
	// ready, generation 1 drains and stops, the supervisor says done.
	checkStory(t, "logs -f of a restart", seen,
		step{"msg=app starting", "generation=2", "component=supervisor"},
		step{"msg=serving", "generation=2", "version=1.0.0"},
		step{"msg=stopping: draining requests", "generation=1", "version=1.0.0"},
		step{"msg=stopped", "generation=1", "version=1.0.0"},
		step{"msg=restart: done", "component=supervisor"},
		step{"msg=request", "path=/after-restart", "generation=2", "version=1.0.0"})
	for _, l := range seen {
		if strings.Contains(l, `"path":"/after-restart"`) && !strings.Contains(l, `"generation":2`) {
			t.Errorf("a request after restart is not logged by generation 2: %q", l)
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("logs -f after SIGINT: want exit 0, got %v; stderr: %s", err, stderr.String())
	}
}

// TestLogOrderAtStop stops a daemon and checks its log tells the stop in
// the order it happened: the supervisor is stopping, the app drains and
// stops, then the supervisor has stopped.
func TestLogOrderAtStop(t *testing.T) {
	t.Parallel()
	s := install(t, "hello", helloV1.get(t))
	s.mustRun("daemon")
	s.body("/")
	s.mustRun("stop")
	all, _ := s.logLines()
	checkStory(t, "log of a stop", all,
		step{"msg=stopping", "component=supervisor"},
		step{"msg=stopping: draining requests", "app=hello"},
		step{"msg=draining", "app=hello"},
		step{"msg=stopped", "app=hello", "component=<nil>"},
		step{"msg=stopped", "component=supervisor"})
}

// step is a log line a story expects: its fields, as key=value with the
// value as the JSON line has it (strings unquoted).
type step []string

func (st step) matches(line string) bool {
	var rec map[string]any
	if json.Unmarshal([]byte(line), &rec) != nil {
		return false
	}
	for _, kv := range st {
		k, v, _ := strings.Cut(kv, "=")
		if fmt.Sprint(rec[k]) != v {
			return false
		}
	}
	return true
}

// checkStory reports the first step of story that lines lack in order.
func checkStory(t *testing.T, what string, lines []string, story ...step) {
	t.Helper()
	i := 0
	for _, l := range lines {
		if i < len(story) && story[i].matches(l) {
			i++
		}
	}
	if i < len(story) {
		t.Errorf("%s: want lines with, in order, %q; %q is missing or out of order in:\n%s", what, story, story[i], strings.Join(lines, "\n"))
	}
}

// TestLogsWithoutLogFile runs the release in the foreground, which writes
// no log file: logs says where the log goes instead.
func TestLogsWithoutLogFile(t *testing.T) {
	t.Parallel()
	s := install(t, "hello", helloV1.get(t))
	s.start()
	code, stdout, stderr := s.run("logs")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "no log file at") || !strings.Contains(stderr, "runs in the foreground") || !strings.Contains(stderr, "journalctl -u hello.service") {
		t.Errorf("logs of a release run with start: want exit 1 saying it runs in the foreground and naming journalctl, got %d %q %q", code, stdout, stderr)
	}
	if _, err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := s.run("logs"); code != 1 || !strings.Contains(stderr, "nothing runs now") {
		t.Errorf("logs with no log file and nothing running: want exit 1 saying so, got %d %q", code, stderr)
	}
}
