package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit/testuser"
)

// hostile is what an impostor's answers carry: a terminal escape that sets
// the window title and one that clears the screen, a bidi override, a
// carriage return that hides what came before. (Bytes that are not UTF-8
// arrive as U+FFFD: JSON strings cannot carry them.)
const hostile = "ok\x1b]0;pwned\x07\x1b[2J\u202e\rdone"

// escapedHostile is hostile as the client must return it.
const escapedHostile = `ok\x1b]0;pwned\x07\x1b[2J\u202e\x0ddone`

// serveImpostor is a helper run as the test user: it serves a control
// socket of its own (args[0]) that answers every request with hostile
// text, and records in args[1] that a request reached it.
func serveImpostor(args []string) error {
	ln, err := Listen(args[0])
	if err != nil {
		return err
	}
	srv := &Server{Handler: HandlerFunc(func(ctx context.Context, req Request, s *Stream) Result {
		os.WriteFile(args[1], []byte(req.Op+" "+strings.Join(req.Args, " ")), 0o644)
		s.Event(hostile)
		return Result{Info: &Info{Name: hostile, PID: os.Getpid()}, PID: os.Getpid(), Error: hostile}
	})}
	fmt.Println("ready")
	return srv.Serve(ln)
}

// pingAsClient is a helper run as the test user: it pings args[0] and
// prints the outcome.
func pingAsClient(args []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := Call(ctx, args[0], Request{Op: OpPing}, Output{})
	switch {
	case err != nil:
		fmt.Printf("dial error: %v\n", err)
	case res.Err() != nil:
		fmt.Printf("refused: %v\n", res.Err())
	default:
		fmt.Printf("answered: %s\n", res.Info.Name)
	}
	return nil
}

// shared is a directory the test user can create directories in, like
// /tmp, with a path short enough for sockets.
func shared(t *testing.T) string {
	t.Helper()
	base := shortDir(t)
	os.Chmod(base, 0o755)
	dir := filepath.Join(base, "s")
	os.Mkdir(dir, 0o700)
	os.Chmod(dir, 0o777|os.ModeSticky)
	return dir
}

func TestClientRefusesAServerOfAnotherUID(t *testing.T) {
	u := testuser.Get(t)
	dir := filepath.Join(shared(t), "tmp")
	testuser.Run(t, "mkdir", dir, "0700")
	sock, marker := filepath.Join(dir, "app.sock"), filepath.Join(dir, "reached")
	testuser.Start(t, "serve-impostor", sock, marker)

	want := fmt.Sprintf("control socket %s is served by %s (uid %d)", sock, u.Name, u.UID)
	calls := []struct {
		name string
		call func() error
	}{
		{"ping", func() error { _, err := Ping(ctxT(t), sock); return err }},
		{"stop", func() error { _, err := Call(ctxT(t), sock, Request{Op: OpStop}, Output{}); return err }},
		{"rpc", func() error {
			_, err := Call(ctxT(t), sock, Request{Op: OpRPC, Args: []string{"grant", "--token=s3cr3t"}}, Output{})
			return err
		}},
	}
	for _, c := range calls {
		err := c.call()
		var pe *PeerError
		if !errors.As(err, &pe) || !errors.Is(err, ErrUntrustedPeer) || pe.UID != u.UID {
			t.Errorf("%s: want a *PeerError for uid %d, got %v", c.name, u.UID, err)
			continue
		}
		for _, f := range []string{want, "neither yours (uid 0) nor root", "refusing", "ls -la " + dir} {
			if !strings.Contains(err.Error(), f) {
				t.Errorf("%s: want the message to contain %q, got %v", c.name, f, err)
			}
		}
	}
	if b, err := os.ReadFile(marker); err == nil {
		t.Errorf("a request reached the other user's server: %q", b)
	}
}

func TestClientEscapesServerText(t *testing.T) {
	t.Parallel()
	path, _ := serve(t, HandlerFunc(func(ctx context.Context, req Request, s *Stream) Result {
		s.Event(hostile)
		return Result{Status: 1, Error: hostile, Version: hostile,
			Info: &Info{Name: hostile, Version: hostile, Mode: hostile, Root: hostile, Instance: hostile, PID: os.Getpid(), Ops: []string{hostile}}}
	}))
	var events []string
	res, err := Call(ctxT(t), path, Request{Op: OpPing}, Output{Event: func(e string) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{
		"error": res.Error, "version": res.Version, "event": strings.Join(events, ""),
		"info.name": res.Info.Name, "info.version": res.Info.Version, "info.mode": res.Info.Mode,
		"info.root": res.Info.Root, "info.instance": res.Info.Instance, "info.ops": strings.Join(res.Info.Ops, ""),
		"Err()": res.Err().Error(),
	} {
		if got != escapedHostile {
			t.Errorf("%s: want %q, got %q", name, escapedHostile, got)
		}
	}
}

func TestEscapeText(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"two\nlines\tand a tab", "two\nlines\tand a tab"},
		{"héllo, 世界", "héllo, 世界"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"bell\x07", `bell\x07`},
		{"\x7f\u0085\u009b", `\x7f\u0085\u009b`},
		{"\u200f\u2066", `\u200f\u2066`},
		{"bad\xc3", `bad\xc3`},
		{`already \x1b escaped`, `already \x1b escaped`},
	}
	for _, c := range cases {
		if got := EscapeText(c.in); got != c.want {
			t.Errorf("EscapeText(%q): want %q, got %q", c.in, c.want, got)
		}
	}
}

func TestRequestOverTheLimitFailsBeforeSending(t *testing.T) {
	t.Parallel()
	reached := make(chan Request, 1)
	path, _ := serve(t, HandlerFunc(func(ctx context.Context, req Request, s *Stream) Result {
		reached <- req
		return Result{}
	}))
	big := strings.Repeat("x", MaxRequest)
	_, err := Call(ctxT(t), path, Request{Op: OpRPC, Args: []string{"import", big}}, Output{})
	var te *RequestTooLargeError
	if !errors.As(err, &te) || te.Limit != MaxRequest {
		t.Fatalf("want a *RequestTooLargeError, got %v", err)
	}
	for _, f := range []string{"1 MiB (1048576 bytes)", fmt.Sprint(te.Size), "rpc"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("want the message to contain %q, got %v", f, err)
		}
	}
	select {
	case <-reached:
		t.Error("the oversized request reached the server")
	default:
	}
	// Just under the limit is served.
	fits := strings.Repeat("x", MaxRequest-len(`{"v":1,"op":"rpc","args":["import",""]}`)-1)
	if res, err := Call(ctxT(t), path, Request{Op: OpRPC, Args: []string{"import", fits}}, Output{}); err != nil || res.Status != 0 {
		t.Fatalf("a request of exactly %d bytes with its newline: want served, got %+v, %v", MaxRequest, res, err)
	}
	if req := <-reached; len(req.Args[1]) != len(fits) {
		t.Errorf("want the argument whole, got %d bytes", len(req.Args[1]))
	}
}

func TestServerNamesTheLimit(t *testing.T) {
	t.Parallel()
	path, _ := serve(t, pingHandler("hello"))
	msgs := raw(t, path, `{"v":1,"op":"rpc","args":["`+strings.Repeat("x", MaxRequest)+`"]}`+"\n")
	if len(msgs) != 1 || msgs[0].Done == nil || msgs[0].Done.Status != 64 || !strings.Contains(msgs[0].Done.Error, "1 MiB") {
		t.Fatalf("want status 64 naming the 1 MiB limit, got %+v", msgs)
	}
}

func TestCheckSocketPath(t *testing.T) {
	t.Parallel()
	dir := shortDir(t)
	at := func(n int) string { // a path of n bytes in dir
		return filepath.Join(dir, strings.Repeat("s", n-len(dir)-1))
	}
	if err := CheckSocketPath(at(MaxPath)); err != nil {
		t.Fatalf("%d bytes: want accepted, got %v", MaxPath, err)
	}
	// The kernel agrees: MaxPath binds, one more does not.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: at(MaxPath), Net: "unix"})
	if err != nil {
		t.Fatalf("bind at %d bytes: %v", MaxPath, err)
	}
	ln.Close()
	if _, err := net.ListenUnix("unix", &net.UnixAddr{Name: at(MaxPath + 1), Net: "unix"}); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("bind at %d bytes: want EINVAL, got %v", MaxPath+1, err)
	}

	long := at(MaxPath + 1)
	err = CheckSocketPath(long)
	var pe *PathTooLongError
	if !errors.As(err, &pe) || pe.Len != MaxPath+1 {
		t.Fatalf("want a *PathTooLongError of %d bytes, got %v", MaxPath+1, err)
	}
	for _, f := range []string{long, "108 bytes", "107", "RELEASE_TMP", fmt.Sprint(MaxPath + 1)} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("want the message to contain %q, got %v", f, err)
		}
	}
	if _, err := Listen(long); !errors.As(err, &pe) {
		t.Errorf("Listen: want the same *PathTooLongError, got %v", err)
	}
}
