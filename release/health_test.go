package release_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"

	"github.com/relkit/relkit/internal/handover"
	"github.com/relkit/relkit/release"
)

// startApp runs app's start in process with env and returns its logs, a
// cancel standing for SIGTERM and the exit code channel.
func startApp(t *testing.T, app release.App[testConfig], env ...string) (*testkit.Buffer, context.CancelFunc, <-chan int) {
	t.Helper()
	logs := &testkit.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		code <- app.Run(ctx, []string{"start"}, append(append([]string{"LOG_FORMAT=json"}, runtimeDirs(t)...), env...), nil, &testkit.Buffer{}, logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("start did not return within 10s of cancellation")
		}
	})
	return logs, cancel, code
}

// fresh GETs url on a new connection.
func fresh(url string) (int, string, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestStartRunsAppChecksAndDrainDelay(t *testing.T) {
	t.Parallel()
	var dbUp atomic.Bool
	app := testApp()
	app.Checks = []release.Check[testConfig]{{Name: "db", Run: func(ctx context.Context, cfg *testConfig) error {
		if cfg.Region != "eu" {
			return errors.New("the check did not get the loaded configuration")
		}
		if !dbUp.Load() {
			return errors.New("db down")
		}
		return nil
	}}}
	logs, cancel, done := startApp(t, app, "PORT=0", "DRAIN_DELAY=1s")
	url := localURL(waitLog(t, logs, "HTTP server listening")["addr"].(string))

	if code, body, err := fresh(url + "/readyz"); err != nil || code != 503 || body != "not ready: db\n" {
		t.Fatalf("with the db down: want 503 %q, got %d %q %v", "not ready: db\n", code, body, err)
	}
	dbUp.Store(true)
	if code, body, err := fresh(url + "/readyz"); err != nil || code != 200 {
		t.Fatalf("with the db up: want 200, got %d %q %v", code, body, err)
	}
	if code, _, err := fresh(url + "/healthz"); err != nil || code != 200 {
		t.Fatalf("want /healthz 200, got %d %v", code, err)
	}

	began := time.Now()
	cancel()
	waitLog(t, logs, "stopping")
	if code, body, err := fresh(url + "/readyz"); err != nil || code != 503 || body != "not ready: draining\n" {
		t.Fatalf("during DRAIN_DELAY: want 503 draining, got %d %q %v", code, body, err)
	}
	if code, _, err := fresh(url + "/"); err != nil || code != 200 {
		t.Fatalf("during DRAIN_DELAY: want the app still served on new connections, got %d %v", code, err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("want exit 0, got %d\n%s", code, logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("start did not stop")
	}
	if took := time.Since(began); took < time.Second {
		t.Errorf("want start to keep serving for DRAIN_DELAY=1s, it stopped after %s", took)
	}
}

func TestStartDrainDelayMustFitShutdownTimeout(t *testing.T) {
	t.Parallel()
	var stderr testkit.Buffer
	code := testApp().Run(context.Background(), []string{"start"}, []string{"DRAIN_DELAY=1m", "SHUTDOWN_TIMEOUT=30s"}, nil, &testkit.Buffer{}, &stderr)
	if code != 78 || !strings.Contains(stderr.String(), "DRAIN_DELAY: want less than SHUTDOWN_TIMEOUT (30s), got 1m0s") {
		t.Fatalf("want 78 naming DRAIN_DELAY and SHUTDOWN_TIMEOUT, got %d %q", code, stderr.String())
	}
}

func TestStartMiddlewareSwitches(t *testing.T) {
	t.Parallel()
	app := testApp()
	app.ServerOptions = release.ServerOptions{DisableRequestID: true, HealthPath: "/-/live"}
	logs, _, _ := startApp(t, app, "PORT=0")
	url := localURL(waitLog(t, logs, "HTTP server listening")["addr"].(string))
	resp, err := http.Get(url + "/-/live")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("want the moved liveness path served, got %d", resp.StatusCode)
	}
	if id := resp.Header.Get("X-Request-ID"); id != "" {
		t.Errorf("want no request ID with DisableRequestID, got %q", id)
	}
}

func TestHealthCommand(t *testing.T) {
	t.Parallel()
	app := testApp()
	app.Checks = []release.Check[testConfig]{{Name: "db", Run: func(context.Context, *testConfig) error { return errors.New("down") }}}
	port := strconv.Itoa(testkit.FreePort(t))
	logs, _, _ := startApp(t, app, "PORT="+port)
	waitLog(t, logs, "HTTP server listening")
	idle := strconv.Itoa(testkit.FreePort(t))

	tests := []struct {
		name       string
		args       []string
		env        []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"alive", []string{"health"}, []string{"PORT=" + port}, 0, "http://127.0.0.1:" + port + "/healthz: ok\n", ""},
		{"not ready", []string{"health", "-ready"}, []string{"PORT=" + port}, 1, "",
			"Error: health: GET http://127.0.0.1:" + port + "/readyz: 503 Service Unavailable: not ready: db\n"},
		{"nothing listening", []string{"health", "-timeout", "2s"}, []string{"PORT=" + idle}, 1, "", "is the release running with PORT=" + idle + "?"},
		{"PORT=0", []string{"health"}, []string{"PORT=0"}, 1, "", "set PORT to the port the release listens on"},
		{"bad config", []string{"health"}, []string{"PORT=http"}, 78, "", "PORT: want a whole number"},
		{"argument", []string{"health", "now"}, nil, 64, "", "Error: health takes no arguments, got \"now\"\nTry: testapp health -h\n"},
		{"bad timeout", []string{"health", "-timeout", "0s"}, nil, 64, "", "-timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr testkit.Buffer
			code := app.Run(context.Background(), tt.args, append([]string{"LOG_FORMAT=json"}, tt.env...), nil, &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit code: want %d, got %d (stderr %q)", tt.wantCode, code, stderr.String())
			}
			if stdout.String() != tt.wantStdout {
				t.Errorf("stdout: want %q, got %q", tt.wantStdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr: want %q in %q", tt.wantStderr, stderr.String())
			}
		})
	}
}

// TestExecStartServesHandedOverListener starts the release the way relkit's
// supervisor does, handing it a listening socket as fd 3: it serves that
// socket, not PORT.
func TestExecStartServesHandedOverListener(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out, err := os.Create(filepath.Join(t.TempDir(), "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	unused := strconv.Itoa(testkit.FreePort(t))
	p, err := handover.StartProcess(os.Args[0], []string{os.Args[0], "start"}, &os.ProcAttr{
		Env:   append([]string{"RELKIT_TEST_EXEC=1", "LOG_FORMAT=json", "PORT=" + unused}, runtimeDirs(t)...),
		Files: []*os.File{nil, out, out},
	}, []handover.NamedListener{{Name: "http", Listener: ln}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill(); p.Wait() })
	logs := fileString(out.Name())
	if addr := waitLog(t, logs, "HTTP server listening")["addr"]; addr != ln.Addr().String() {
		t.Errorf("want the handed-over socket %s served, got %v", ln.Addr(), addr)
	}
	if code, body, err := fresh("http://" + ln.Addr().String() + "/"); err != nil || code != 200 || body != "hello from testapp 1.2.3\n" {
		t.Fatalf("want the app on the handed-over socket, got %d %q %v", code, body, err)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+unused, time.Second); err == nil {
		c.Close()
		t.Error("want nothing listening on PORT when a socket was handed over")
	}
	p.Signal(syscall.SIGTERM)
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Fatalf("want exit 0 after SIGTERM, got %v %v\n%s", st, err, logs)
	}
}

// fileString reads a file each time its String method is called.
type fileString string

func (f fileString) String() string {
	b, _ := os.ReadFile(string(f))
	return string(b)
}
