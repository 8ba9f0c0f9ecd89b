package supervisor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/handover"
	"github.com/relkit/relkit/internal/relspec"
	"github.com/relkit/relkit/internal/sdnotify"
	"github.com/relkit/relkit/internal/supervised"
)

// Modes of the test app (the test binary re-executed with
// SUPERVISOR_TEST_CHILD=mode):
//
//	serve        serve HTTP on the inherited "http" socket, rpc on its control socket
//	fail-boot    exit 78 at once, as a release with bad configuration does
//	no-ready     serve but never send READY=1
//	crash        become ready, then exit 3 after 50ms while the counter file
//	             says fewer than SUPERVISOR_TEST_CRASHES boots happened
//	fail-later   serve as generation 1; later generations fail to boot
//	ignore-term  serve, ignoring SIGTERM
//
// A generation started from ROOT/releases/VSN/app (an upgrade) takes its
// mode from VSN when VSN names one: 9.9.9-loud-crash prints 30 numbered
// lines and exits 2, 9.9.9-no-ready never sends READY=1.
//
// State handoff: a generation's state is what its predecessor handed over
// (RELKIT_HANDOFF_FILE), else SUPERVISOR_TEST_STATE; it serves it at
// /state and exports it with ">N" appended (N its generation). The state
// "fail-export" makes the export fail.
func childMain(mode string) int {
	// The signal handlers first: a supervisor may stop a generation at
	// any moment after starting it (a ready timeout, a called-off switch),
	// and a SIGTERM before this point would kill the process instead of
	// draining it.
	stopSignals := []os.Signal{syscall.SIGTERM, syscall.SIGINT}
	if mode == "ignore-term" {
		signal.Ignore(syscall.SIGTERM)
		stopSignals = stopSignals[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	// Tests that stop a generation before it is ready wait for this line.
	fmt.Fprintf(os.Stderr, "generation %s: signal handlers installed\n", env[relspec.EnvGeneration])
	switch vsn := filepath.Base(filepath.Dir(os.Args[0])); vsn {
	case "9.9.9-loud-crash":
		for i := 1; i <= 30; i++ {
			fmt.Fprintf(os.Stderr, "boot line %d\n", i)
		}
		return 2
	case "9.9.9-no-ready":
		mode = "no-ready"
	}
	// Before anything touches it: is the shared socket non-blocking?
	nonblocking := "no socket"
	if env[relspec.EnvRelkitListenFDs] != "" {
		nb, err := nonblockingFD(3)
		nonblocking = fmt.Sprint(nb, err)
	}
	gen := env[relspec.EnvGeneration]
	boots := 0
	if p := env["SUPERVISOR_TEST_COUNTER"]; p != "" {
		b, _ := os.ReadFile(p)
		boots, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		boots++
		os.WriteFile(p, []byte(strconv.Itoa(boots)), 0o600)
	}
	switch {
	case mode == "fail-boot", mode == "fail-later" && gen != "1":
		fmt.Fprintln(os.Stderr, "Error: PORT: want a port from 0 to 65535, got 70000")
		return 78
	}

	ls, err := handover.Inherited(env)
	if err != nil {
		fmt.Fprintln(os.Stderr, "inherit:", err)
		return 1
	}
	state := env["SUPERVISOR_TEST_STATE"]
	if p := env[relspec.EnvHandoffFile]; p != "" {
		h, err := supervised.ReadHandoff(p, 1<<20)
		if err != nil || h.Format != 7 {
			fmt.Fprintf(os.Stderr, "import: format %v, %v\n", h, err)
			return 1
		}
		state = string(h.Data)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "gen %s pid %d\n", gen, os.Getpid())
	})
	mux.HandleFunc("/argv0", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, os.Args[0])
	})
	mux.HandleFunc("/state", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, state)
	})
	var usr1 atomic.Int64
	usr1c := make(chan os.Signal, 1)
	signal.Notify(usr1c, syscall.SIGUSR1)
	go func() {
		for range usr1c {
			usr1.Add(1)
		}
	}()
	mux.HandleFunc("/usr1", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, usr1.Load())
	})
	mux.HandleFunc("/nonblocking", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, nonblocking)
	})
	errc := make(chan error, 1)
	go func() { errc <- drainServe(ctx, findListener(ls, "http"), mux) }()

	ln, err := control.Listen(env[relspec.EnvControlSocket])
	if err != nil {
		fmt.Fprintln(os.Stderr, "control:", err)
		return 1
	}
	ctl := &control.Server{Handler: control.HandlerFunc(func(ctx context.Context, req control.Request, s *control.Stream) control.Result {
		if req.Op == control.OpHandoff {
			switch state {
			case "":
				return control.Result{}
			case "fail-export":
				return control.Fail(1, "export: failed on purpose")
			}
			return control.Result{Handoff: &control.Handoff{Format: 7, Data: []byte(state + ">" + gen)}}
		}
		if req.Op != control.OpRPC || len(req.Args) == 0 {
			return control.Fail(64, "unknown request %q", req.Op)
		}
		switch req.Args[0] {
		case "echo":
			fmt.Fprintln(s.Stdout(), strings.Join(req.Args[1:], " "))
			fmt.Fprintln(s.Stderr(), "echoed by generation", gen)
			return control.Result{}
		case "fail":
			return control.Fail(1, "task fail: failed on purpose")
		}
		return control.Fail(64, "unknown task %q", req.Args[0])
	})}
	go ctl.Serve(ln)
	defer ctl.Shutdown(context.Background())

	if mode != "no-ready" {
		sdnotify.Send(env["NOTIFY_SOCKET"], sdnotify.Ready, "STATUS=generation "+gen+" serving")
	}
	fmt.Printf("generation %s ready (pid %d)\n", gen, os.Getpid())
	if mode == "crash" {
		limit, _ := strconv.Atoi(env["SUPERVISOR_TEST_CRASHES"])
		if boots <= limit {
			time.Sleep(50 * time.Millisecond)
			fmt.Fprintf(os.Stderr, "generation %s: crashing on purpose\n", gen)
			return 3
		}
	}
	if mode == "ignore-term" {
		select {}
	}
	if err := <-errc; err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	fmt.Printf("generation %s stopped\n", gen)
	return 0
}

// drainServe serves h on ln until ctx is done, then stops without dropping
// a request: it stops accepting (the socket stays open in the supervisor
// and the next generation), turns keep-alives off, which closes idle
// connections and makes every other one close after its current response,
// and waits for the connections to close. It never calls
// http.Server.Shutdown, which answers nothing to a request it reads after
// shutdown began — a connection accepted just before SIGTERM would get EOF.
// (The server package drains the same way; this test app uses plain
// net/http so the supervisor is tested on its own.)
func drainServe(ctx context.Context, ln net.Listener, h http.Handler) error {
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ConnState: func(c net.Conn, st http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch st {
		case http.StateNew:
			conns[c] = struct{}{}
		case http.StateClosed, http.StateHijacked:
			delete(conns, c)
		}
	}}
	go hs.Serve(ln)
	<-ctx.Done()
	ln.Close()
	hs.SetKeepAlivesEnabled(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(conns)
		mu.Unlock()
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			hs.Close()
			return fmt.Errorf("%d connections still open after 5s; closed them", n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// findListener returns the listener called name, or nil.
func findListener(ls []handover.NamedListener, name string) net.Listener {
	for _, l := range ls {
		if l.Name == name {
			return l.Listener
		}
	}
	return nil
}

// nonblocking reports whether c's descriptor is in non-blocking mode.
func nonblocking(c syscall.Conn) (bool, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return false, err
	}
	var nb bool
	var ferr error
	if err := raw.Control(func(fd uintptr) { nb, ferr = nonblockingFD(int(fd)) }); err != nil {
		return false, err
	}
	return nb, ferr
}

// nonblockingFD reports whether descriptor fd is in non-blocking mode,
// working on the raw number: an *os.File around it would close it when
// collected.
func nonblockingFD(fd int) (bool, error) {
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if errno != 0 {
		return false, errors.New("fcntl F_GETFL: " + errno.Error())
	}
	return flags&syscall.O_NONBLOCK != 0, nil
}
