package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// childEnv switches the test binary into a child process that serves with
// the hand-over environment it was given, the peer of the hand-over and
// socket activation tests.
const childEnv = "RELKIT_SERVER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild reports fd 3's O_NONBLOCK flag as it found it, then serves a
// Server configured from its environment until SIGTERM.
func runChild() int {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, 3, syscall.F_GETFL, 0)
	nonblock := errno == 0 && flags&syscall.O_NONBLOCK != 0

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "pid=%d fd3-nonblock=%v listen-pid=%s names=%s%s\n",
			os.Getpid(), nonblock, env[EnvListenPID], env[EnvListenFDNames], env[EnvRelkitListenFDNames])
	})
	s := New(h, Options{
		Env:             env,
		Name:            "child",
		Version:         "1.0.0",
		Addr:            "127.0.0.1:1", // never used: listeners are handed over
		ShutdownTimeout: 5 * time.Second,
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err := s.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// startServer runs a Server for h on a loopback listener and returns its
// base URL, the Server and a function that stops it and returns Run's
// result (also called at cleanup).
func startServer(t *testing.T, h http.Handler, o Options) (string, *Server, func() error) {
	t.Helper()
	s := newLoopback(t, h, o)
	url, stop := runServer(t, s)
	return url, s, stop
}

// newLoopback returns a Server for h on a new loopback listener unless o
// already has one.
func newLoopback(t *testing.T, h http.Handler, o Options) *Server {
	t.Helper()
	if o.Listener == nil && len(o.Listeners) == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		o.Listener = ln
	}
	return New(h, o)
}

// runServer runs s until the returned stop function (or the test's
// cleanup) cancels it.
func runServer(t *testing.T, s *Server) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-errc:
		cancel()
		t.Fatalf("Run returned before serving: %v", err)
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("server not ready after 5s")
	}
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-errc:
			case <-time.After(30 * time.Second):
				runErr = fmt.Errorf("Run did not return 30s after cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() { stop() })
	return "http://" + s.Addr().String(), stop
}
