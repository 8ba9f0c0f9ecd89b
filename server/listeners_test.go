//go:build linux

package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/syncbuf"

	"github.com/relkit/relkit/internal/sdnotify"
)

func TestParseListenEnv(t *testing.T) {
	t.Parallel()
	const pid = 4242
	tests := []struct {
		name      string
		env       map[string]string
		wantN     int
		wantNames []string
		wantErr   string
	}{
		{name: "nothing handed over", env: map[string]string{"PORT": "4000"}},
		{name: "systemd for us", env: map[string]string{"LISTEN_FDS": "2", "LISTEN_PID": "4242", "LISTEN_FDNAMES": "http:metrics"},
			wantN: 2, wantNames: []string{"http", "metrics"}},
		{name: "systemd without names", env: map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": "4242"},
			wantN: 1, wantNames: []string{""}},
		{name: "systemd for another pid is ignored", env: map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": "1"}},
		{name: "systemd without LISTEN_PID is ignored", env: map[string]string{"LISTEN_FDS": "1"}},
		{name: "relkit needs no pid", env: map[string]string{"RELKIT_LISTEN_FDS": "1", "RELKIT_LISTEN_FDNAMES": "http"},
			wantN: 1, wantNames: []string{"http"}},
		{name: "relkit wins over systemd", env: map[string]string{"RELKIT_LISTEN_FDS": "1", "RELKIT_LISTEN_FDNAMES": "http",
			"LISTEN_FDS": "3", "LISTEN_PID": "4242", "LISTEN_FDNAMES": "a:b:c"}, wantN: 1, wantNames: []string{"http"}},
		{name: "zero sockets", env: map[string]string{"RELKIT_LISTEN_FDS": "0"}, wantNames: []string{}},
		{name: "count not a number", env: map[string]string{"RELKIT_LISTEN_FDS": "two"},
			wantErr: `RELKIT_LISTEN_FDS="two" is not a count`},
		{name: "negative count", env: map[string]string{"LISTEN_FDS": "-1", "LISTEN_PID": "4242"},
			wantErr: `LISTEN_FDS="-1" is not a count`},
		{name: "names do not match count", env: map[string]string{"LISTEN_FDS": "2", "LISTEN_PID": "4242", "LISTEN_FDNAMES": "http"},
			wantErr: "LISTEN_FDNAMES names 1 sockets but LISTEN_FDS=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, names, err := parseListenEnv(tt.env, pid)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrListenEnv) {
					t.Fatalf("want an ErrListenEnv error containing %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("want no error, got %v", err)
			}
			if n != tt.wantN {
				t.Fatalf("want %d sockets, got %d", tt.wantN, n)
			}
			if tt.wantNames != nil && !slices.Equal(names, tt.wantNames) {
				t.Fatalf("want names %q, got %q", tt.wantNames, names)
			}
		})
	}
}

// placeFD duplicates c's descriptor onto fd number at, the way a parent
// leaves sockets at 3, 4, ... for its child.
func placeFD(t *testing.T, c syscall.Conn, at int) {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var dupErr error
	if err := rc.Control(func(fd uintptr) { dupErr = syscall.Dup3(int(fd), at, 0) }); err != nil {
		t.Fatal(err)
	}
	if dupErr != nil {
		t.Fatalf("dup3 onto %d: %v", at, dupErr)
	}
}

func fdOpen(fd int) bool {
	_, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	return errno == 0
}

// The fd numbers used below are far above anything the test binary opens
// itself; each test uses its own range so they can run in parallel.

func TestListenersFromFDs(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	placeFD(t, ln.(*net.TCPListener), 900)

	got, err := listenersFromFDs(900, 1, []string{"http"})
	if err != nil {
		t.Fatalf("want the listener, got %v", err)
	}
	defer got[0].Close()
	if fdOpen(900) {
		t.Error("want the original fd 900 closed after taking it, it is still open")
	}
	if want, g := "http", got[0].Name; want != g {
		t.Errorf("want name %q, got %q", want, g)
	}
	if want, g := ln.Addr().String(), got[0].Addr().String(); want != g {
		t.Errorf("want address %s, got %s", want, g)
	}
	if !nonblocking(t, got[0].Listener.(*net.TCPListener)) || !nonblocking(t, ln.(*net.TCPListener)) {
		t.Error("want the shared socket to stay O_NONBLOCK")
	}
	// The taken listener accepts from the shared socket.
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
		}
	}()
	c, err := got[0].Accept()
	if err != nil {
		t.Fatalf("accept on the taken listener: %v", err)
	}
	c.Close()
}

func TestListenersFromFDsRejectsNonListeners(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := os.CreateTemp(t.TempDir(), "plain")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	placeFD(t, ln.(*net.TCPListener), 910)
	placeFD(t, f, 911)
	placeFD(t, udp.(*net.UDPConn), 912)

	_, err = listenersFromFDs(910, 3, []string{"http", "log", "dns"})
	if !errors.Is(err, ErrListenEnv) {
		t.Fatalf("want ErrListenEnv, got %v", err)
	}
	for _, want := range []string{`fd 911 (name "log"): not a socket`, `fd 912 (name "dns"): not a stream socket`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("want the error to contain %q, got %q", want, err)
		}
	}
	for fd := 910; fd <= 912; fd++ {
		if fdOpen(fd) {
			t.Errorf("want fd %d closed after a failed take, it is open", fd)
		}
	}
}

func TestPickHTTP(t *testing.T) {
	t.Parallel()
	listen := func(name string) NamedListener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return NamedListener{Name: name, Listener: ln}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	t.Run("the only socket whatever its name", func(t *testing.T) {
		one := listen("hello.socket")
		got, err := pickHTTP([]NamedListener{one}, log)
		if err != nil || len(got) != 1 || got[0] != one.Listener {
			t.Fatalf("want the single listener, got %v, %v", got, err)
		}
	})
	t.Run("the ones named http", func(t *testing.T) {
		h4, metrics, h6 := listen("http"), listen("metrics"), listen("http")
		got, err := pickHTTP([]NamedListener{h4, metrics, h6}, log)
		if err != nil || len(got) != 2 || got[0] != h4.Listener || got[1] != h6.Listener {
			t.Fatalf("want both http listeners, got %v, %v", got, err)
		}
		if _, err := metrics.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("want the unused metrics listener closed, Accept got %v", err)
		}
	})
	t.Run("several and none named http", func(t *testing.T) {
		_, err := pickHTTP([]NamedListener{listen("a"), listen("b")}, log)
		if !errors.Is(err, ErrNoHTTPListener) || !strings.Contains(err.Error(), `"a", "b"`) || !strings.Contains(err.Error(), "FileDescriptorName=http") {
			t.Fatalf("want ErrNoHTTPListener naming the sockets and the fix, got %v", err)
		}
	})
}

func TestStartProcessHandsOverNonBlockingListener(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tcp := ln.(*net.TCPListener)
	if !nonblocking(t, tcp) {
		t.Fatal("want a fresh Go listener to be O_NONBLOCK")
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "child.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	p, err := StartProcess(os.Args[0], []string{os.Args[0]}, &os.ProcAttr{
		Env:   []string{childEnv + "=1", "LISTEN_FDS=7", "LISTEN_PID=1"},
		Files: []*os.File{nil, out, out},
	}, []NamedListener{{Name: "http", Listener: ln}})
	if err != nil {
		t.Fatalf("StartProcess: %v", err)
	}
	t.Cleanup(func() { p.Kill(); p.Wait() })
	if !nonblocking(t, tcp) {
		t.Error("want the parent's listener still O_NONBLOCK after handing it over, it is blocking")
	}

	// The parent does not accept, so the child answers.
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatalf("GET from the child: %v\nchild output:\n%s", err, readFile(t, out.Name()))
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "pid=" + strconv.Itoa(p.Pid) + " fd3-nonblock=true listen-pid= names=http"; !strings.Contains(string(body), want) {
		t.Errorf("want the child to report %q, got %q", want, body)
	}
	if !nonblocking(t, tcp) {
		t.Error("want the parent's listener still O_NONBLOCK while the child serves it")
	}

	client.CloseIdleConnections()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait()
	if err != nil || !st.Success() {
		t.Fatalf("want the child to drain and exit 0 on SIGTERM, got %v, %v\nchild output:\n%s", st, err, readFile(t, out.Name()))
	}
	// Handing over shares the socket: the parent still owns a working one.
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
		}
	}()
	tcp.SetDeadline(time.Now().Add(5 * time.Second))
	c, err := tcp.Accept()
	if err != nil {
		t.Fatalf("want the parent's listener to keep accepting after the child exited, got %v", err)
	}
	c.Close()
}

func TestStartProcessErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	tests := []struct {
		name    string
		path    string
		attr    *os.ProcAttr
		ls      []NamedListener
		wantErr string
	}{
		{"missing program", filepath.Join(t.TempDir(), "absent"), nil, []NamedListener{{"http", ln}},
			"fork/exec"},
		{"name with a colon", os.Args[0], nil, []NamedListener{{"a:b", ln}},
			`listener name "a:b" contains ':'`},
		{"too many files", os.Args[0], &os.ProcAttr{Files: []*os.File{nil, nil, nil, nil}}, nil,
			"want at most the 3 standard streams"},
		{"closed listener", os.Args[0], nil, []NamedListener{{"http", closedListener(t)}},
			`duplicate listener "http"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := StartProcess(tt.path, []string{tt.path}, tt.attr, tt.ls)
			if err == nil {
				p.Kill()
				p.Wait()
				t.Fatalf("want an error containing %q, got a process", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want an error containing %q, got %q", tt.wantErr, err)
			}
		})
	}
}

func closedListener(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	return ln
}

func readFile(t *testing.T, name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// TestSystemdSocketActivation runs the server under the real
// systemd-socket-activate, which binds a socket and execs the child with
// LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES, and receives its sd_notify
// messages on a unixgram socket given as NOTIFY_SOCKET.
func TestSystemdSocketActivation(t *testing.T) {
	t.Parallel()
	ssa, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-socket-activate not found; install Debian's systemd package")
		}
		t.Skip("systemd-socket-activate not found (Debian's systemd package)")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "http.sock")
	notify, err := sdnotify.Listen(filepath.Join(dir, "notify.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()

	var out syncbuf.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ssa, "-l", sock, "--fdname=http",
		"-E", childEnv+"=1", "-E", "NOTIFY_SOCKET="+notify.Path(), os.Args[0])
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			for {
				c, err := d.DialContext(ctx, "unix", sock)
				if err == nil || ctx.Err() != nil {
					return c, err
				}
				time.Sleep(10 * time.Millisecond) // the socket appears once systemd-socket-activate is up
			}
		},
	}}
	resp, err := client.Get("http://activated/")
	if err != nil {
		t.Fatalf("GET through the activated socket: %v\noutput:\n%s", err, out.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// systemd-socket-activate execs the server in its own process, so
	// LISTEN_PID is the server's pid.
	pid := strconv.Itoa(cmd.Process.Pid)
	if want := "listen-pid=" + pid + " names=http"; !strings.HasPrefix(string(body), "pid="+pid+" ") || !strings.Contains(string(body), want) {
		t.Errorf("want the activated server to report %q, got %q", want, body)
	}

	msgs := receiveUntil(t, notify, "READY=1")
	if !slices.ContainsFunc(msgs, func(m string) bool { return strings.HasPrefix(m, "STATUS=child 1.0.0: serving on "+sock) }) {
		t.Errorf("want a STATUS naming the app, version and socket with READY=1, got %q", msgs)
	}

	client.CloseIdleConnections()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	receiveUntil(t, notify, "STOPPING=1")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("want exit 0 after SIGTERM, got %v\noutput:\n%s", err, out.String())
	}
}

// receiveUntil reads notifications until one contains want and returns
// that message's assignments.
func receiveUntil(t *testing.T, r *sdnotify.Receiver, want string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var seen [][]string
	for {
		msg, err := r.Receive(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v; received %q", want, err, seen)
		}
		if slices.Contains(msg, want) {
			return msg
		}
		seen = append(seen, msg)
	}
}
