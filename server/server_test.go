package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSlowlorisIsCutOff(t *testing.T) {
	t.Parallel()
	url, _, _ := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), Options{ReadHeaderTimeout: 200 * time.Millisecond})
	addr := strings.TrimPrefix(url, "http://")

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Headers that never end.
	fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: test\r\nX-Slow: 1\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("want the server to hang up on a client that never finishes its headers, still open after %s", time.Since(start))
	}

	// Everyone else is still served.
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("want the server still serving, got %v", err)
	}
	resp.Body.Close()
}

func TestDefaultsApplied(t *testing.T) {
	t.Parallel()
	var got *http.Server
	s := newLoopback(t, http.NotFoundHandler(), Options{ConfigureHTTP: func(hs *http.Server) { got = hs }})
	runServer(t, s)
	if got == nil {
		t.Fatal("want ConfigureHTTP called with the http.Server")
	}
	tests := []struct {
		name      string
		want, got any
	}{
		{"ReadHeaderTimeout", DefaultReadHeaderTimeout, got.ReadHeaderTimeout},
		{"IdleTimeout", DefaultIdleTimeout, got.IdleTimeout},
		{"MaxHeaderBytes", DefaultMaxHeaderBytes, got.MaxHeaderBytes},
		{"ReadTimeout", time.Duration(0), got.ReadTimeout},
		{"WriteTimeout", time.Duration(0), got.WriteTimeout},
	}
	for _, tt := range tests {
		if tt.want != tt.got {
			t.Errorf("%s: want %v, got %v", tt.name, tt.want, tt.got)
		}
	}
}

func TestMaxHeaderBytes(t *testing.T) {
	t.Parallel()
	url, _, _ := startServer(t, http.NotFoundHandler(), Options{MaxHeaderBytes: 1 << 10})
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("X-Big", strings.Repeat("a", 8<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := http.StatusRequestHeaderFieldsTooLarge; resp.StatusCode != want {
		t.Fatalf("want %d for 8 KiB of headers over a 1 KiB limit, got %d", want, resp.StatusCode)
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"port in use", Options{Addr: busy.Addr().String()}, "set PORT to another one"},
		{"check without name", Options{Addr: "127.0.0.1:0", Checks: []Check{{Func: func(context.Context) error { return nil }}}},
			"readiness check #1 has no Name"},
		{"check without func", Options{Addr: "127.0.0.1:0", Checks: []Check{{Name: "db"}}}, `readiness check "db" has no Func`},
		{"duplicate checks", Options{Addr: "127.0.0.1:0", Checks: []Check{
			{Name: "db", Func: func(context.Context) error { return nil }},
			{Name: "db", Func: func(context.Context) error { return nil }}}}, `two readiness checks are named "db"`},
		{"bad hand-over", Options{Addr: "127.0.0.1:0", Env: map[string]string{"RELKIT_LISTEN_FDS": "x"}}, "RELKIT_LISTEN_FDS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := New(http.NotFoundHandler(), tt.opts).Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want an error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestRunTwice(t *testing.T) {
	t.Parallel()
	_, s, stop := startServer(t, http.NotFoundHandler(), Options{})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "Run called twice") {
		t.Fatalf("want an error for a second Run, got %v", err)
	}
}

func TestServesSeveralListeners(t *testing.T) {
	t.Parallel()
	var lns []net.Listener
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
	}
	startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		Options{Listeners: lns})
	for _, ln := range lns {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			t.Fatalf("want %s served, got %v", ln.Addr(), err)
		}
		resp.Body.Close()
	}
}

func TestServeErrorWhenListenerFails(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(http.NotFoundHandler(), Options{Listener: ln})
	errc := make(chan error, 1)
	go func() { errc <- s.Run(context.Background()) }()
	<-s.Ready()
	ln.Close() // closed under the server, not by a shutdown
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "serve on "+ln.Addr().String()) {
			t.Fatalf("want a serve error naming the address, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its listener failed")
	}
}

// TestServeAfterReady: with ServeAfterReady, a request sent while the
// readiness check fails gets no answer until the check passes; then it is
// answered by the handler.
func TestServeAfterReady(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	calls := make(chan struct{}, 100)
	pass := make(chan struct{})
	check := func(context.Context) error {
		select {
		case calls <- struct{}{}:
		default:
		}
		select {
		case <-pass:
			return nil
		default:
			return errors.New("not yet")
		}
	}
	s := New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "served") }),
		Options{Listener: ln, ServeAfterReady: true, Checks: []Check{{Name: "db", Func: check}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	answered := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			answered <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- string(b)
	}()
	// Three failing rounds of the check, while the request waits.
	for range 3 {
		<-calls
	}
	select {
	case got := <-answered:
		t.Fatalf("answered before the readiness check passed: %q", got)
	case <-s.Ready():
		t.Fatal("Ready closed before the readiness check passed")
	default:
	}
	close(pass)
	if got := <-answered; got != "served" {
		t.Fatalf("after the check passed: want the handler's answer, got %q", got)
	}
}

// TestServeAfterReadyStoppedBeforeReady: cancelled while its check fails,
// the server returns nil without having served.
func TestServeAfterReadyStoppedBeforeReady(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	called := make(chan struct{}, 1)
	s := New(http.NotFoundHandler(), Options{Listener: ln, ServeAfterReady: true, Checks: []Check{{Name: "db", Func: func(context.Context) error {
		select {
		case called <- struct{}{}:
		default:
		}
		return errors.New("down")
	}}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-called
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: want nil, got %v", err)
	}
}
