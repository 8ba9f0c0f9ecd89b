package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit/testuser"
)

func TestMain(m *testing.M) {
	testuser.Main(m, map[string]testuser.Helper{"serve-impostor": serveImpostor, "ping": pingAsClient})
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// serve starts a Server for h on a socket in a private temp dir.
func serve(t *testing.T, h Handler) (path string, srv *Server) {
	t.Helper()
	dir := shortDir(t)
	path = filepath.Join(dir, "app.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv = &Server{Handler: h}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Serve: want nil after Shutdown, got %v", err)
		}
	})
	return path, srv
}

// shortDir is a private temp dir with a short path (Unix socket paths are
// limited to 107 bytes; t.TempDir paths carry the test name).
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func pingHandler(name string) HandlerFunc {
	return func(ctx context.Context, req Request, s *Stream) Result {
		switch req.Op {
		case OpPing:
			return Result{Info: &Info{Name: name, PID: os.Getpid(), Protocol: Version, Ops: []string{OpPing, OpPID}}}
		case OpPID:
			return Result{PID: os.Getpid()}
		}
		return Fail(64, "unknown request %q", req.Op)
	}
}

func TestPingAndPID(t *testing.T) {
	t.Parallel()
	path, _ := serve(t, pingHandler("hello"))
	info, err := Ping(ctxT(t), path)
	if err != nil {
		t.Fatal(err)
	}
	if want, got := "hello", info.Name; want != got {
		t.Errorf("name: want %q, got %q", want, got)
	}
	if want, got := os.Getpid(), info.PID; want != got {
		t.Errorf("pid: want %d, got %d", want, got)
	}
	res, err := Call(ctxT(t), path, Request{Op: OpPID}, Output{})
	if err != nil || res.PID != os.Getpid() {
		t.Errorf("pid request: want pid %d, got %+v, %v", os.Getpid(), res, err)
	}
	res, err = Call(ctxT(t), path, Request{Op: "frobnicate"}, Output{})
	if err != nil || res.Status != 64 || !strings.Contains(res.Error, `"frobnicate"`) {
		t.Errorf("unknown op: want status 64 naming it, got %+v, %v", res, err)
	}
}

func TestStreamsOutputThenResult(t *testing.T) {
	t.Parallel()
	binary := []byte{0, 0xff, 0xfe, '\n'}
	big := bytes.Repeat([]byte("0123456789abcdef"), 20000) // > one chunk
	path, _ := serve(t, HandlerFunc(func(ctx context.Context, req Request, s *Stream) Result {
		fmt.Fprintf(s.Stdout(), "hello %s\n", strings.Join(req.Args, " "))
		s.Stderr().Write([]byte("warning\n"))
		s.Event("halfway")
		s.Stdout().Write(binary)
		s.Stdout().Write(big)
		return Fail(3, "task failed")
	}))
	var stdout, stderr bytes.Buffer
	var events []string
	res, err := Call(ctxT(t), path, Request{Op: OpRPC, Args: []string{"Ada", "Lovelace"}},
		Output{Stdout: &stdout, Stderr: &stderr, Event: func(e string) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	if want := append(append([]byte("hello Ada Lovelace\n"), binary...), big...); !bytes.Equal(want, stdout.Bytes()) {
		t.Errorf("stdout: want %d bytes starting %q, got %d bytes starting %q", len(want), want[:20], stdout.Len(), stdout.Bytes()[:min(20, stdout.Len())])
	}
	if want, got := "warning\n", stderr.String(); want != got {
		t.Errorf("stderr: want %q, got %q", want, got)
	}
	if want, got := "halfway", strings.Join(events, ","); want != got {
		t.Errorf("events: want %q, got %q", want, got)
	}
	if res.Status != 3 || res.Error != "task failed" {
		t.Errorf("result: want status 3 %q, got %+v", "task failed", res)
	}
	var se *StatusError
	if !errors.As(res.Err(), &se) || se.Status != 3 {
		t.Errorf("Err: want *StatusError status 3, got %v", res.Err())
	}
}

// raw sends line and returns the decoded answer lines.
func raw(t *testing.T, path, line string) []Message {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, line)
	var out []Message
	dec := json.NewDecoder(c)
	for {
		var m Message
		if err := dec.Decode(&m); err != nil {
			return out
		}
		out = append(out, m)
	}
}

func TestRefusesBadRequests(t *testing.T) {
	t.Parallel()
	path, _ := serve(t, pingHandler("hello"))
	cases := []struct {
		name, line, want string
	}{
		{"newer protocol", `{"v":2,"op":"ping"}` + "\n", "protocol version 2 is not supported: this system speaks version 1"},
		{"no version", `{"op":"ping"}` + "\n", "protocol version 0 is not supported"},
		{"not JSON", "ping\n", "bad request"},
	}
	for _, c := range cases {
		msgs := raw(t, path, c.line)
		if len(msgs) != 1 || msgs[0].Done == nil {
			t.Errorf("%s: want one final message, got %+v", c.name, msgs)
			continue
		}
		d := msgs[0].Done
		if d.Status != 64 || !strings.Contains(d.Error, c.want) {
			t.Errorf("%s: want status 64 with %q, got %d %q", c.name, c.want, d.Status, d.Error)
		}
		if want, got := Version, msgs[0].V; want != got {
			t.Errorf("%s: want answer version %d, got %d", c.name, want, got)
		}
	}
}

func TestUnknownFieldsAreIgnored(t *testing.T) {
	t.Parallel()
	path, _ := serve(t, pingHandler("hello"))
	msgs := raw(t, path, `{"v":1,"op":"pid","deadline":"soon"}`+"\n")
	if len(msgs) != 1 || msgs[0].Done == nil || msgs[0].Done.PID != os.Getpid() {
		t.Fatalf("want pid %d despite an unknown field, got %+v", os.Getpid(), msgs)
	}
}

func TestClientHangupCancelsHandler(t *testing.T) {
	t.Parallel()
	cancelled := make(chan struct{})
	started := make(chan struct{})
	path, _ := serve(t, HandlerFunc(func(ctx context.Context, req Request, s *Stream) Result {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return Result{}
	}))
	ctx, cancel := context.WithCancel(ctxT(t))
	errc := make(chan error, 1)
	go func() { _, err := Call(ctx, path, Request{Op: OpRPC}, Output{}); errc <- err }()
	<-started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client: want context.Canceled, got %v", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("handler context was not cancelled after the client hung up")
	}
}

func TestHandlerPanicIsAnError(t *testing.T) {
	t.Parallel()
	path, _ := serve(t, HandlerFunc(func(context.Context, Request, *Stream) Result { panic("boom") }))
	res, err := Call(ctxT(t), path, Request{Op: OpRPC}, Output{})
	if err != nil || res.Status != 1 || !strings.Contains(res.Error, "boom") {
		t.Fatalf("want status 1 mentioning the panic, got %+v, %v", res, err)
	}
}

func TestShutdownWaitsForRequestThenRemovesSocket(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{})
	dir := shortDir(t)
	path := filepath.Join(dir, "app.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Handler: HandlerFunc(func(ctx context.Context, req Request, s *Stream) Result {
		close(started)
		<-release
		return Result{PID: 7}
	})}
	go srv.Serve(ln)
	resc := make(chan Result, 1)
	go func() { r, _ := Call(ctxT(t), path, Request{Op: OpStop}, Output{}); resc <- r }()
	<-started
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctxT(t)) }()
	select {
	case <-shut:
		t.Fatal("Shutdown returned while a request was in progress")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if want, got := 7, (<-resc).PID; want != got {
		t.Errorf("in-flight answer: want pid %d, got %d", want, got)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file after Shutdown: want gone, got %v", err)
	}
}

func TestShutdownTimeoutCancelsRequests(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	path, srv := serve(t, HandlerFunc(func(ctx context.Context, req Request, s *Stream) Result {
		close(started)
		<-ctx.Done()
		return Result{}
	}))
	errc := make(chan error, 1)
	go func() { _, err := Call(ctxT(t), path, Request{Op: OpRPC}, Output{}); errc <- err }()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: want DeadlineExceeded, got %v", err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("client of a cancelled request: want ErrClosed, got %v", err)
	}
}

func TestPingRejectsAnswerForAnotherPID(t *testing.T) {
	t.Parallel()
	path, _ := serve(t, HandlerFunc(func(ctx context.Context, req Request, s *Stream) Result {
		return Result{Info: &Info{Name: "liar", PID: 1}}
	}))
	_, err := Ping(ctxT(t), path)
	want := fmt.Sprintf("claims pid 1 but the kernel says pid %d answered", os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("want an error containing %q, got %v", want, err)
	}
}

func TestDialNothingRunning(t *testing.T) {
	t.Parallel()
	dir := shortDir(t)
	stale := filepath.Join(dir, "stale.sock")
	ln, _ := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	ln.SetUnlinkOnClose(false)
	ln.Close() // the file stays, nobody listens
	for name, path := range map[string]string{"no socket": filepath.Join(dir, "none.sock"), "stale socket": stale} {
		if _, err := Dial(ctxT(t), path); !errors.Is(err, ErrNotRunning) {
			t.Errorf("%s: want ErrNotRunning, got %v", name, err)
		}
	}
}

func TestListen(t *testing.T) {
	t.Parallel()
	t.Run("replaces a stale socket", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(shortDir(t), "app.sock")
		old, _ := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		old.SetUnlinkOnClose(false)
		old.Close()
		ln, err := Listen(path)
		if err != nil {
			t.Fatalf("want the stale socket replaced, got %v", err)
		}
		defer ln.Close()
		st, _ := os.Stat(path)
		if want, got := os.FileMode(0o600), st.Mode().Perm(); want != got {
			t.Errorf("socket mode: want %v, got %v", want, got)
		}
	})
	t.Run("refuses while a server answers", func(t *testing.T) {
		t.Parallel()
		path, _ := serve(t, pingHandler("hello"))
		if _, err := Listen(path); !errors.Is(err, ErrRunning) {
			t.Fatalf("want ErrRunning, got %v", err)
		}
		if _, err := Ping(ctxT(t), path); err != nil {
			t.Fatalf("the running server must keep its socket, got %v", err)
		}
	})
	t.Run("refuses a directory writable by others", func(t *testing.T) {
		t.Parallel()
		dir := shortDir(t)
		os.Chmod(dir, 0o775)
		_, err := Listen(filepath.Join(dir, "app.sock"))
		if err == nil || !strings.Contains(err.Error(), "chmod 0700 "+dir) {
			t.Fatalf("want an error telling to chmod 0700, got %v", err)
		}
	})
	t.Run("accepts a directory others may only read", func(t *testing.T) {
		t.Parallel()
		dir := shortDir(t)
		os.Chmod(dir, 0o755)
		ln, err := Listen(filepath.Join(dir, "app.sock"))
		if err != nil {
			t.Fatalf("want a 0755 directory accepted (the socket is 0600), got %v", err)
		}
		ln.Close()
	})
	t.Run("refuses a file that is not a socket", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(shortDir(t), "app.sock")
		os.WriteFile(path, []byte("data"), 0o600)
		_, err := Listen(path)
		if err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Fatalf("want an error saying it is not a socket, got %v", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "data" {
			t.Errorf("the file must be left alone, got content %q", b)
		}
	})
	t.Run("path too long", func(t *testing.T) {
		t.Parallel()
		_, err := Listen(filepath.Join(shortDir(t), strings.Repeat("x", 120)+".sock"))
		if err == nil || !strings.Contains(err.Error(), "RELEASE_TMP") {
			t.Fatalf("want an error pointing at RELEASE_TMP, got %v", err)
		}
	})
}

func TestPeerOfAnotherUIDIsRefused(t *testing.T) {
	u := testuser.Get(t)
	t.Parallel()

	t.Run("by SO_PEERCRED", func(t *testing.T) {
		// A socket deliberately reachable by everyone: only the peer
		// credential check stands in the way.
		dir := shortDir(t)
		os.Chmod(dir, 0o755)
		path := filepath.Join(dir, "open.sock")
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, 0o666)
		served := make(chan struct{}, 1)
		srv := &Server{Handler: HandlerFunc(func(ctx context.Context, req Request, s *Stream) Result {
			select {
			case served <- struct{}{}:
			default:
			}
			return Result{Info: &Info{Name: "hello", PID: os.Getpid()}}
		})}
		go srv.Serve(ln)
		defer srv.Shutdown(context.Background())

		// Root's server is one every client trusts; it is the server that
		// refuses the other user.
		got := strings.TrimSpace(testuser.Run(t, "ping", path))
		want := fmt.Sprintf("refused: permission denied: uid %d may not use this control socket (only uid 0", u.UID)
		if !strings.HasPrefix(got, want) {
			t.Errorf("want %q…, got %q", want, got)
		}
		select {
		case <-served:
			t.Error("the handler ran for a refused peer")
		default:
		}
		// The same socket still serves its own user.
		if info, err := Ping(ctxT(t), path); err != nil || info.Name != "hello" {
			t.Errorf("own user: want served as %q, got %+v, %v", "hello", info, err)
		}
	})

	t.Run("by the private directory", func(t *testing.T) {
		path, _ := serve(t, pingHandler("hello"))
		got := strings.TrimSpace(testuser.Run(t, "ping", path))
		if want := "dial error: connect to control socket"; !strings.HasPrefix(got, want) || !strings.Contains(got, "permission denied") {
			t.Errorf("want %q… permission denied, got %q", want, got)
		}
	})
}
