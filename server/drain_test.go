package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// shareListener returns a second listener on ln's socket, as a hand-over
// to the next generation of a server would.
func shareListener(t *testing.T, ln net.Listener) net.Listener {
	t.Helper()
	// A raw dup through SyscallConn, as the supervisor's hand-over does:
	// (*net.TCPListener).File would switch the shared socket to blocking.
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd, dupErr := -1, error(nil)
	if err := rc.Control(func(orig uintptr) { fd, dupErr = syscall.Dup(int(orig)) }); err != nil || dupErr != nil {
		t.Fatal(err, dupErr)
	}
	f := os.NewFile(uintptr(fd), "shared")
	defer f.Close()
	l, err := net.FileListener(f)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// loadClient sends POST requests in a loop until stop is closed and
// counts the outcomes.
type loadClient struct {
	client *http.Client
	url    string

	ok, failed, closedByA atomic.Int64
	mu                    sync.Mutex
	errs                  []string
}

func (c *loadClient) run(stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		body := fmt.Sprintf("request %d", i)
		resp, err := c.client.Post(c.url, "text/plain", strings.NewReader(body))
		if err == nil {
			var got []byte
			got, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && (resp.StatusCode != http.StatusOK || string(got) != body) {
				err = fmt.Errorf("status %d, body %q for %q", resp.StatusCode, got, body)
			}
			if err == nil && resp.Header.Get("X-Gen") == "A" && resp.Close {
				c.closedByA.Add(1)
			}
		}
		if err != nil {
			c.failed.Add(1)
			c.mu.Lock()
			if len(c.errs) < 5 {
				c.errs = append(c.errs, err.Error())
			}
			c.mu.Unlock()
			continue
		}
		c.ok.Add(1)
	}
}

// TestDrainUnderLoadLosesNoRequest drains generation A of a server while
// generation B serves the same socket, as during an upgrade: keep-alive
// POST clients and one-connection-per-request clients must see no failed
// request at all.
func TestDrainUnderLoadLosesNoRequest(t *testing.T) {
	t.Parallel()
	echo := func(gen string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			time.Sleep(time.Millisecond) // keep requests in flight
			w.Header().Set("X-Gen", gen)
			w.Write(b)
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := New(echo("A"), Options{Listener: shareListener(t, ln), DrainDelay: 100 * time.Millisecond, ShutdownTimeout: 10 * time.Second})
	b := New(echo("B"), Options{Listener: ln})
	_, stopA := runServer(t, a)
	url, stopB := runServer(t, b)

	var clients []*loadClient
	for i := range 8 {
		tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableKeepAlives: i%2 == 1}
		t.Cleanup(tr.CloseIdleConnections)
		clients = append(clients, &loadClient{client: &http.Client{Transport: tr, Timeout: 10 * time.Second}, url: url + "/work"})
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go c.run(stop, &wg)
	}

	time.Sleep(300 * time.Millisecond) // load before the drain
	start := time.Now()
	errA := stopA()
	drained := time.Since(start)
	time.Sleep(200 * time.Millisecond) // load after A is gone
	close(stop)
	wg.Wait()
	if err := stopB(); err != nil {
		t.Errorf("generation B: want a clean shutdown, got %v", err)
	}

	if errA != nil {
		t.Errorf("generation A: want a clean drain, got %v", errA)
	}
	if drained < 100*time.Millisecond {
		t.Errorf("want A to keep serving for its 100ms DrainDelay, it stopped after %s", drained)
	}
	var ok, failed, closedByA int64
	for _, c := range clients {
		ok += c.ok.Load()
		failed += c.failed.Load()
		closedByA += c.closedByA.Load()
		if len(c.errs) > 0 {
			t.Errorf("client errors: %q", c.errs)
		}
	}
	if failed != 0 {
		t.Errorf("want 0 failed requests, got %d failed of %d", failed, ok+failed)
	}
	if closedByA == 0 {
		t.Errorf("want A to answer some requests with Connection: close while draining, got none of %d", ok)
	}
	t.Logf("%d requests, %d failed, %d answered by A with Connection: close; A drained in %s", ok+failed, failed, closedByA, drained)
}

func TestReadyzFlipsBeforeListenerCloses(t *testing.T) {
	t.Parallel()
	const delay = time.Second
	url, _, stop := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "app\n")
	}), Options{DrainDelay: delay, ShutdownTimeout: 10 * time.Second})
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	get := func(path string) (int, string, error) {
		resp, err := fresh.Get(url + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	if code, body, err := get("/readyz"); err != nil || code != http.StatusOK {
		t.Fatalf("before shutdown: want /readyz 200, got %d %q %v", code, body, err)
	}

	start := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	deadline := time.Now().Add(delay / 2)
	for {
		code, body, err := get("/readyz")
		if err != nil {
			t.Fatalf("want /readyz answered on a new connection during the drain delay, got %v", err)
		}
		if code == http.StatusServiceUnavailable {
			if want := "not ready: draining\n"; body != want {
				t.Errorf("want body %q, got %q", want, body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want /readyz 503 soon after shutdown began, still %d after %s", code, delay/2)
		}
	}
	// The listener is still open and the app still serves.
	if code, body, err := get("/"); err != nil || code != http.StatusOK || body != "app\n" {
		t.Fatalf("during the drain delay: want 200 app on a new connection, got %d %q %v", code, body, err)
	}
	if since := time.Since(start); since >= delay {
		t.Fatalf("the checks above took %s, longer than the %s drain delay; the test proves nothing", since, delay)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("want a clean shutdown, got %v", err)
	}
	if since := time.Since(start); since < delay {
		t.Errorf("want Run to keep serving for the %s drain delay, it returned after %s", delay, since)
	}
	if _, _, err := get("/"); err == nil {
		t.Error("want new connections refused after shutdown, one was served")
	}
}

// TestDrainAnswersQuietConnections checks the two cases http.Server.Shutdown
// gets wrong: a connection accepted before the listener closed whose
// request arrives after, and a keep-alive connection whose next request
// races the shutdown. Both must be answered, with Connection: close.
func TestDrainAnswersQuietConnections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		keepAlive bool // send one request before the shutdown
	}{
		{"accepted, request not yet sent", false},
		{"idle keep-alive connection", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newLoopback(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				w.Write(b)
			}), Options{DrainIdleTimeout: 5 * time.Second, ShutdownTimeout: 10 * time.Second})
			states := make(chan http.ConnState, 16)
			s.testConnState = func(_ net.Conn, st http.ConnState) { states <- st }
			url, stop := runServer(t, s)
			addr := strings.TrimPrefix(url, "http://")

			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			want := http.StateNew
			if tt.keepAlive {
				resp := roundTrip(t, c, br, "first")
				if resp.Close {
					t.Fatal("want the first response to keep the connection alive")
				}
				want = http.StateIdle
			}
			waitState(t, states, want)

			stopped := make(chan error, 1)
			go func() { stopped <- stop() }()
			waitRefused(t, addr)

			resp := roundTrip(t, c, br, "after the listener closed")
			if !resp.Close {
				t.Error("want Connection: close on a response sent while draining")
			}
			if err := <-stopped; err != nil {
				t.Fatalf("want a clean shutdown, got %v", err)
			}
		})
	}
}

func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader, body string) *http.Response {
	t.Helper()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("want a response to %q, got %v", body, err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || string(got) != body {
		t.Fatalf("want 200 %q, got %d %q %v", body, resp.StatusCode, got, err)
	}
	return resp
}

func waitState(t *testing.T, states <-chan http.ConnState, want http.ConnState) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case st := <-states:
			if st == want {
				return
			}
		case <-timeout:
			t.Fatalf("connection never reached state %s", want)
		}
	}
}

// waitRefused waits until the listener at addr is closed.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting 5s after shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDrainClosesIdleConnectionsAfterDrainIdleTimeout(t *testing.T) {
	t.Parallel()
	url, _, stop := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		Options{DrainIdleTimeout: 200 * time.Millisecond, ShutdownTimeout: 20 * time.Second})
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: test\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("want a clean shutdown, got %v", err)
	}
	took := time.Since(start)
	if took < 200*time.Millisecond || took > 10*time.Second {
		t.Errorf("want the idle connection closed after its 200ms DrainIdleTimeout (not the 120s IdleTimeout or 20s ShutdownTimeout), shutdown took %s", took)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("want the idle connection closed by the server (EOF), got %v", err)
	}
}

func TestShutdownTimeoutCutsOffRequests(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	started := make(chan struct{})
	url, _, stop := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}), Options{ShutdownTimeout: 300 * time.Millisecond})
	clientErr := make(chan error, 1)
	go func() {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		clientErr <- err
	}()
	<-started
	start := time.Now()
	if err := stop(); !errors.Is(err, ErrShutdownTimeout) {
		t.Fatalf("want ErrShutdownTimeout, got %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("want Run back soon after the 300ms ShutdownTimeout, took %s", took)
	}
	if err := <-clientErr; err == nil {
		t.Error("want the cut-off request to fail on the client")
	}
}

func TestShutdownTimeoutBoundsDrainDelay(t *testing.T) {
	t.Parallel()
	_, _, stop := startServer(t, http.NotFoundHandler(),
		Options{DrainDelay: time.Minute, ShutdownTimeout: 200 * time.Millisecond})
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("want a clean shutdown with no connections, got %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("want the 1m DrainDelay cut to the 200ms ShutdownTimeout, shutdown took %s", took)
	}
}
