package handover

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func environ() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// In child mode the test binary reports what it inherited on stdout, then
// answers one connection on the socket named "http".
func TestMain(m *testing.M) {
	if os.Getenv("HANDOVER_TEST_CHILD") != "" {
		nb, err := NonblockingFD(FirstFD)
		fmt.Printf("fd3 nonblocking=%v err=%v\n", nb, err)
		ls, err := Inherit(environ(), os.Getpid())
		if err != nil {
			fmt.Println("inherit error:", err)
			os.Exit(1)
		}
		var names []string
		for _, l := range ls {
			names = append(names, l.Name)
		}
		fmt.Printf("names=%s\n", strings.Join(names, ","))
		ln := Find(ls, "http")
		if ln == nil {
			fmt.Println("no http listener")
			os.Exit(1)
		}
		nb, err = Nonblocking(ln.(syscall.Conn))
		fmt.Printf("listener nonblocking=%v err=%v\n", nb, err)
		c, err := ln.Accept()
		if err != nil {
			fmt.Println("accept error:", err)
			os.Exit(1)
		}
		fmt.Fprintf(c, "hello from %d\n", os.Getpid())
		c.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func wait(t *testing.T, pid int) syscall.WaitStatus {
	t.Helper()
	done := make(chan syscall.WaitStatus, 1)
	go func() {
		var ws syscall.WaitStatus
		for {
			_, err := syscall.Wait4(pid, &ws, 0, nil)
			if err != syscall.EINTR {
				break
			}
		}
		done <- ws
	}()
	select {
	case ws := <-done:
		return ws
	case <-time.After(10 * time.Second):
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("child %d did not exit", pid)
		return 0
	}
}

func TestStartHandsOverNonblockingListener(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	other, _ := net.Listen("tcp", "127.0.0.1:0")
	defer other.Close()
	r, w, _ := os.Pipe()
	defer r.Close()
	env := append(os.Environ(), "HANDOVER_TEST_CHILD=1", "LISTEN_PID=1", "LISTEN_FDS=9")
	pid, err := Start(os.Args[0], []string{os.Args[0], "-test.run=^$"}, Attr{
		Env:       env,
		Stdout:    w,
		Stderr:    w,
		Listeners: []File{{"http", ln.(*net.TCPListener)}, {"admin", other.(*net.TCPListener)}},
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}

	c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	greeting, _ := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if want := fmt.Sprintf("hello from %d\n", pid); greeting != want {
		t.Errorf("answer on the handed-over socket: want %q, got %q", want, greeting)
	}
	out, _ := io.ReadAll(r)
	if ws := wait(t, pid); ws.ExitStatus() != 0 {
		t.Fatalf("child exited %d:\n%s", ws.ExitStatus(), out)
	}
	for _, want := range []string{
		"fd3 nonblocking=true err=<nil>",
		"names=http,admin",
		"listener nonblocking=true err=<nil>",
	} {
		if !strings.Contains(string(out), want+"\n") {
			t.Errorf("child: want line %q, got:\n%s", want, out)
		}
	}
	nb, err := Nonblocking(ln.(*net.TCPListener))
	if err != nil || !nb {
		t.Errorf("parent listener after Start: want non-blocking, got nonblocking=%v, %v", nb, err)
	}
	assertCloseUnblocksAccept(t, ln)
}

func assertCloseUnblocksAccept(t *testing.T, ln net.Listener) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { _, err := ln.Accept(); errc <- err }()
	time.Sleep(20 * time.Millisecond) // let Accept park
	ln.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Error("Accept after Close: want an error")
		}
	case <-time.After(5 * time.Second):
		t.Error("Close did not interrupt Accept: the socket was left in blocking mode (golang/go#24942)")
	}
}

// The check above can fail: this is the bug Start avoids.
func TestFileMethodMakesSocketBlocking(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Fd() // what os/exec does with ExtraFiles
	nb, err := Nonblocking(ln.(*net.TCPListener))
	if err != nil || nb {
		t.Fatalf("after File().Fd(): want the shared socket blocking (the bug this package avoids), got nonblocking=%v, %v", nb, err)
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	cases := []struct {
		name   string
		binary string
		ls     []File
		want   string
	}{
		{"missing binary", "/nonexistent/app", nil, "start /nonexistent/app: no such file or directory"},
		{"unnamed listener", os.Args[0], []File{{"", ln.(*net.TCPListener)}}, `listener name ""`},
		{"name with colon", os.Args[0], []File{{"a:b", ln.(*net.TCPListener)}}, `listener name "a:b"`},
	}
	for _, c := range cases {
		_, err := Start(c.binary, []string{c.binary}, Attr{Listeners: c.ls})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error containing %q, got %v", c.name, c.want, err)
		}
	}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	in := []string{"A=1", "LISTEN_PID=5", "LISTEN_FDS=2", "LISTEN_FDNAMES=x:y", "RELKIT_LISTEN_FDS=1", "B=2"}
	cases := []struct {
		name  string
		names []string
		want  []string
	}{
		{"no sockets", nil, []string{"A=1", "B=2"}},
		{"two sockets", []string{"http", "admin"}, []string{"A=1", "B=2", "RELKIT_LISTEN_FDS=2", "RELKIT_LISTEN_FDNAMES=http:admin"}},
	}
	for _, c := range cases {
		if got := Env(in, c.names); !slices.Equal(got, c.want) {
			t.Errorf("%s: want %q, got %q", c.name, c.want, got)
		}
	}
}

func TestInheritIgnoresAndRejects(t *testing.T) {
	t.Parallel()
	pid := os.Getpid()
	cases := []struct {
		name string
		env  map[string]string
		want string // "" = no listeners, no error
	}{
		{"nothing passed", map[string]string{}, ""},
		{"systemd sockets for another pid", map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": "1"}, ""},
		{"bad count", map[string]string{"RELKIT_LISTEN_FDS": "many"}, `RELKIT_LISTEN_FDS="many"`},
		{"names do not match count", map[string]string{"LISTEN_FDS": "2", "LISTEN_PID": strconv.Itoa(pid), "LISTEN_FDNAMES": "http"}, "LISTEN_FDNAMES names 1 sockets but LISTEN_FDS=2"},
	}
	for _, c := range cases {
		ls, err := Inherit(c.env, pid)
		switch {
		case c.want == "" && (err != nil || ls != nil):
			t.Errorf("%s: want nothing, got %v, %v", c.name, ls, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: want an error containing %q, got %v", c.name, c.want, err)
		}
	}
}

// systemd's own socket activation (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES)
// as systemd-socket-activate sets it up.
func TestInheritFromSystemdSocketActivate(t *testing.T) {
	bin, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-socket-activate not found (apt-get install systemd)")
		}
		t.Skip("systemd-socket-activate not installed")
	}
	t.Parallel()
	probe, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := probe.Addr().String()
	probe.Close()
	// The activated process gets only the variables named with -E.
	cmd := exec.Command(bin, "-l", addr, "--fdname=http", "-E", "HANDOVER_TEST_CHILD=1", os.Args[0], "-test.run=^$")
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var c net.Conn
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err = net.Dial("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("connect to %s: %v\n%s", addr, err, out)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	greeting, _ := bufio.NewReader(c).ReadString('\n')
	c.Close()
	cmd.Wait()
	if !strings.HasPrefix(greeting, "hello from ") {
		t.Errorf("want a greeting from the activated child, got %q\n%s", greeting, out)
	}
	if !strings.Contains(out.String(), "names=http\n") {
		t.Errorf("want the socket named http from LISTEN_FDNAMES, got:\n%s", out)
	}
}
