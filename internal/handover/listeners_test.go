//go:build linux

package handover

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv switches the test binary into the child of the hand-over tests:
// it takes the listeners it was handed and answers each connection with
// what it found, until SIGTERM.
const childEnv = "RELKIT_HANDOVER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

func runChild() int {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, 3, syscall.F_GETFL, 0)
	nonblock := errno == 0 && flags&syscall.O_NONBLOCK != 0
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	ls, err := Inherited(env)
	if err != nil || len(ls) != 1 {
		fmt.Fprintln(os.Stderr, "child: want one inherited listener, got", len(ls), err)
		return 1
	}
	go func() {
		for {
			c, err := ls[0].Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "pid=%d fd3-nonblock=%v listen-pid=%s names=%s%s\n",
				os.Getpid(), nonblock, env["LISTEN_PID"], env["LISTEN_FDNAMES"], env["RELKIT_LISTEN_FDNAMES"])
			c.Close()
		}
	}()
	<-sigs
	ls[0].Close()
	return 0
}

// nonblocking reports whether c's descriptor has O_NONBLOCK set, looking at
// it through SyscallConn so that the check itself changes nothing.
func nonblocking(t *testing.T, c syscall.Conn) bool {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags uintptr
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		flags, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	}); err != nil {
		t.Fatal(err)
	}
	if errno != 0 {
		t.Fatalf("fcntl F_GETFL: %v", errno)
	}
	return flags&syscall.O_NONBLOCK != 0
}

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
	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatalf("connect to the child: %v\nchild output:\n%s", err, readFile(t, out.Name()))
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	body, err := io.ReadAll(conn)
	conn.Close()
	if err != nil {
		t.Fatalf("read from the child: %v\nchild output:\n%s", err, readFile(t, out.Name()))
	}
	if want := "pid=" + strconv.Itoa(p.Pid) + " fd3-nonblock=true listen-pid= names=http"; !strings.Contains(string(body), want) {
		t.Errorf("want the child to report %q, got %q", want, body)
	}
	if !nonblocking(t, tcp) {
		t.Error("want the parent's listener still O_NONBLOCK while the child serves it")
	}

	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait()
	if err != nil || !st.Success() {
		t.Fatalf("want the child to exit 0 on SIGTERM, got %v, %v\nchild output:\n%s", st, err, readFile(t, out.Name()))
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

func TestListenFallsBackToAddr(t *testing.T) {
	t.Parallel()
	ls, err := Listen(map[string]string{}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ls[0].Close()
	if len(ls) != 1 || ls[0].Name != HTTPListenerName {
		t.Fatalf("want one new listener named http, got %v", ls)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, err = Listen(map[string]string{}, taken.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "set PORT to another one") {
		t.Fatalf("want an error naming the fix for a taken port, got %v", err)
	}
}
