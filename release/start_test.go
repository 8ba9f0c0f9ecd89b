package release_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
)

// startInProcess runs testApp's start through Run; see startApp.
func startInProcess(t *testing.T, env ...string) (*testkit.Buffer, context.CancelFunc, <-chan int) {
	t.Helper()
	return startApp(t, testApp(), env...)
}

func TestStartServesAndStops(t *testing.T) {
	t.Parallel()
	logs, cancel, done := startInProcess(t, "PORT=0")
	rec := waitLog(t, logs, "HTTP server listening")
	if msg := rec["msg"].(string); !strings.Contains(msg, "the app's default is Server: true") || !strings.Contains(msg, "SERVER=false turns it off") {
		t.Errorf("the listening line must say why the server runs and how to turn it off, got %q", msg)
	}
	code, body := get(t, localURL(rec["addr"].(string))+"/")
	if code != 200 || body != "hello from testapp 1.2.3\n" {
		t.Fatalf("want 200 %q, got %d %q", "hello from testapp 1.2.3\n", code, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("want exit 0 after a graceful stop, got %d\n%s", code, logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("start did not stop")
	}
	waitLog(t, logs, "stopped")
}

func TestStartServerFalseListensNowhere(t *testing.T) {
	t.Parallel()
	port := testkit.FreePort(t)
	logs, _, _ := startInProcess(t, "PORT="+strconv.Itoa(port), "SERVER=false")
	rec := waitLog(t, logs, "HTTP server is off")
	if msg := rec["msg"].(string); !strings.Contains(msg, "set by SERVER") || !strings.Contains(msg, "SERVER=true turns it on") {
		t.Errorf("the off line must say why and how to turn it on, got %q", msg)
	}
	waitLog(t, logs, "running")
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("something listens on PORT=%d although SERVER=false", port)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("want connection refused, got %v", err)
	}
}

func TestStartServerTrueWithoutHandler(t *testing.T) {
	t.Parallel()
	app := testApp()
	app.Handler = nil
	var stderr testkit.Buffer
	code := app.Run(context.Background(), []string{"start"}, []string{"SERVER=true", "LOG_FORMAT=json"}, nil, &testkit.Buffer{}, &stderr)
	if code != 78 || !strings.Contains(stderr.String(), "SERVER=true but the application defines no Handler") {
		t.Fatalf("want 78 naming the missing Handler, got %d %q", code, stderr.String())
	}
}

func TestStartPortTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	var stderr testkit.Buffer
	code := testApp().Run(context.Background(), []string{"start"}, append([]string{"PORT=" + strconv.Itoa(port), "LOG_FORMAT=json"}, runtimeDirs(t)...), nil, &testkit.Buffer{}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "address already in use") || !strings.Contains(stderr.String(), "set PORT to another one") {
		t.Fatalf("want exit 1 naming the taken port and the fix, got %d %q", code, stderr.String())
	}
}

// execApp starts the test binary as the release in a real process.
func execApp(t *testing.T, args []string, env ...string) (*exec.Cmd, *testkit.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append([]string{"RELKIT_TEST_EXEC=1", "LOG_FORMAT=json", "PATH=" + os.Getenv("PATH")}, runtimeDirs(t)...), env...)
	logs := &testkit.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, logs
}

func exitCode(t *testing.T, cmd *exec.Cmd, within time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("process did not exit within %v", within)
		return -1
	}
}

func TestExecExitCodes(t *testing.T) {
	t.Parallel()
	const secret = "a-secret-that-is-too-short"
	tests := []struct {
		name string
		args []string
		env  []string
		want int
		has  string
	}{
		{"unknown command", []string{"frobnicate"}, nil, 64, "Try: testapp help"},
		{"invalid config", []string{"start"}, []string{"PORT=x", "SECRET_KEY_BASE=" + secret}, 78, "SECRET_KEY_BASE: want at least 64 characters"},
		{"missing handler", []string{"version"}, nil, 0, "testapp 1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd, out := execApp(t, tt.args, tt.env...)
			if got := exitCode(t, cmd, 10*time.Second); tt.want != got {
				t.Fatalf("exit code: want %d, got %d: %s", tt.want, got, out)
			}
			if !strings.Contains(out.String(), tt.has) {
				t.Errorf("output: want %q in %q", tt.has, out)
			}
			if strings.Contains(out.String(), secret) {
				t.Error("output contains a secret value")
			}
		})
	}
}

func TestExecSIGTERMFinishesSlowRequest(t *testing.T) {
	t.Parallel()
	cmd, logs := execApp(t, []string{"start"}, "PORT=0", "SLOW_DELAY=1500ms")
	url := localURL(waitLog(t, logs, "HTTP server listening")["addr"].(string))
	type result struct {
		code int
		body string
	}
	res := make(chan result, 1)
	go func() {
		code, body := get(t, url+"/slow")
		res <- result{code, body}
	}()
	time.Sleep(300 * time.Millisecond) // let the request reach the handler
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLog(t, logs, "stopping")
	r := <-res
	if r.code != 200 || r.body != "slow done\n" {
		t.Fatalf("the in-flight request must complete: got %d %q", r.code, r.body)
	}
	if code := exitCode(t, cmd, 10*time.Second); code != 0 {
		t.Fatalf("want exit 0 after SIGTERM, got %d\n%s", code, logs)
	}
	if rec := waitLog(t, logs, "stopping"); rec["reason"] != "received terminated" {
		t.Errorf("want the reason to name the signal, got %v", rec["reason"])
	}
}

func TestExecSecondSignalForcesExit(t *testing.T) {
	t.Parallel()
	cmd, logs := execApp(t, []string{"start"}, "PORT=0", "SLOW_DELAY=30s", "SHUTDOWN_TIMEOUT=60s")
	url := localURL(waitLog(t, logs, "HTTP server listening")["addr"].(string))
	go func() {
		c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		if err == nil {
			c.Write([]byte("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"))
			time.Sleep(20 * time.Second)
			c.Close()
		}
	}()
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	waitLog(t, logs, "stopping")
	began := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	if want, got := 130, exitCode(t, cmd, 5*time.Second); want != got {
		t.Fatalf("exit code: want %d (128+SIGINT), got %d", want, got)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Fatalf("the second signal took %v to end the process", d)
	}
	if !strings.Contains(logs.String(), "second interrupt: exiting now") {
		t.Errorf("want a line saying the second signal ends the process, got:\n%s", logs)
	}
}
