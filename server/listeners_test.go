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

	"github.com/relkit/relkit/internal/handover"
	"github.com/relkit/relkit/internal/sdnotify"
	"github.com/relkit/relkit/internal/testkit"
)

func TestPickHTTP(t *testing.T) {
	t.Parallel()
	listen := func(name string) handover.NamedListener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return handover.NamedListener{Name: name, Listener: ln}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	t.Run("the only socket whatever its name", func(t *testing.T) {
		one := listen("hello.socket")
		got, err := pickHTTP([]handover.NamedListener{one}, log)
		if err != nil || len(got) != 1 || got[0] != one.Listener {
			t.Fatalf("want the single listener, got %v, %v", got, err)
		}
	})
	t.Run("the ones named http", func(t *testing.T) {
		h4, metrics, h6 := listen("http"), listen("metrics"), listen("http")
		got, err := pickHTTP([]handover.NamedListener{h4, metrics, h6}, log)
		if err != nil || len(got) != 2 || got[0] != h4.Listener || got[1] != h6.Listener {
			t.Fatalf("want both http listeners, got %v, %v", got, err)
		}
		if _, err := metrics.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("want the unused metrics listener closed, Accept got %v", err)
		}
	})
	t.Run("several and none named http", func(t *testing.T) {
		_, err := pickHTTP([]handover.NamedListener{listen("a"), listen("b")}, log)
		if !errors.Is(err, ErrNoHTTPListener) || !strings.Contains(err.Error(), `"a", "b"`) || !strings.Contains(err.Error(), "FileDescriptorName=http") {
			t.Fatalf("want ErrNoHTTPListener naming the sockets and the fix, got %v", err)
		}
	})
}

// TestSystemdSocketActivation runs the server under the real
// systemd-socket-activate, which binds a socket and execs the child with
// LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES, and receives its sd_notify
// messages on a unixgram socket given as NOTIFY_SOCKET.
func TestSystemdSocketActivation(t *testing.T) {
	t.Parallel()
	ssa := testkit.LookPath(t, "systemd-socket-activate", "systemd")
	dir := t.TempDir()
	sock := filepath.Join(dir, "http.sock")
	notify, err := sdnotify.Listen(filepath.Join(dir, "notify.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()

	var out testkit.Buffer
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
