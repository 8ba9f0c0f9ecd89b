package release

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/pidfile"
	"github.com/relkit/relkit/internal/supervisor"
)

// errStopRequested is the cause start reports when a stop request arrived
// on the control socket.
var errStopRequested = errors.New("stop requested on the control socket")

// serveControl serves the app process's control socket: under a supervisor
// the generation's own (RELKIT_CONTROL_SOCKET, where the supervisor sends
// rpc), else the release's public one in RELEASE_TMP, guarded by the
// instance lock so that a second instance is refused. A stop request calls
// stop(cause) and is answered once the returned close function runs, which
// start does when it has shut down.
func (r *runner[C]) serveControl(stop context.CancelCauseFunc, cfg *C, log *slog.Logger) (closeFn func(), err error) {
	path, mode := r.env[supervisor.EnvControlSocket], control.ModeGeneration
	var lock *pidfile.Lock
	var root string
	if path == "" {
		mode = control.ModeForeground
		p, err := r.paths()
		if err != nil {
			return nil, err
		}
		if err := p.mkdirs(); err != nil {
			return nil, err
		}
		root, path = p.Root, p.socket
		lock, err = pidfile.TryLock(p.lock)
		if errors.Is(err, pidfile.ErrLocked) {
			return nil, r.alreadyRunning(p)
		}
		if err != nil {
			return nil, err
		}
	}
	ln, err := control.Listen(path)
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	var id [8]byte
	rand.Read(id[:])
	info := control.Info{
		Name: r.name, Version: r.version, PID: os.Getpid(), Mode: mode, Root: root,
		Started: time.Now(), Instance: hex.EncodeToString(id[:]), Protocol: control.Version,
		Ops: []string{control.OpPing, control.OpPID, control.OpStop, control.OpRPC},
	}
	if mode == control.ModeGeneration {
		info.Ops = append(info.Ops, control.OpHandoff)
	}
	done := make(chan struct{})
	srv := &control.Server{Logger: log, Handler: control.HandlerFunc(func(ctx context.Context, req control.Request, st *control.Stream) control.Result {
		switch req.Op {
		case control.OpPing:
			return control.Result{Info: &info}
		case control.OpPID:
			return control.Result{PID: info.PID}
		case control.OpStop:
			st.Event("stopping")
			stop(errStopRequested)
			select {
			case <-done:
				return control.Result{}
			case <-ctx.Done():
				return control.Fail(1, "stop: interrupted while waiting for %s to stop", r.name)
			}
		case control.OpRestart:
			return control.Fail(1, "restart: %s runs in the foreground (%s start), so nothing holds its socket while it is replaced; run it with `%s daemon` to restart without downtime, or stop and start it", r.name, r.name, r.name)
		case control.OpUpgrade:
			return control.Fail(1, "upgrade: %s runs without a supervisor (%s start of a development build), so nothing holds its socket while the release is switched; run an assembled release (relkit build), whose start and daemon are supervised", r.name, r.name)
		case control.OpRPC:
			return r.runTask(ctx, req.Args, st, cfg, log)
		case control.OpHandoff:
			if mode == control.ModeGeneration {
				return r.exportState(ctx, log)
			}
		}
		return control.Fail(64, "unknown request %q: %s %s answers %s", req.Op, r.name, r.version, strings.Join(info.Ops, ", "))
	})}
	go srv.Serve(ln)
	log.Debug("control socket ready", "path", path, "mode", mode)
	return func() {
		close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		lock.Unlock()
	}, nil
}

// alreadyRunning is the error for a second instance: it names the running
// one's PID as its control socket reports it.
func (r *runner[C]) alreadyRunning(p runtimePaths) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if info, err := control.Ping(ctx, p.socket); err == nil {
		return fmt.Errorf("%s is already running (pid %d); stop it first: %s stop", r.name, info.PID, r.name)
	}
	return fmt.Errorf("%s is already running (another process holds %s but does not answer on %s yet; if it is starting, wait; check with %s pid)", r.name, p.lock, p.socket, r.name)
}

// runTask runs an rpc task inside this process, its output streamed to the
// caller.
func (r *runner[C]) runTask(ctx context.Context, args []string, st *control.Stream, cfg *C, log *slog.Logger) (res control.Result) {
	if len(args) == 0 {
		return control.Fail(ExitUsage, "rpc needs a task\nTry: %s rpc   (lists the tasks)", r.name)
	}
	name := args[0]
	task, ok := r.app.Tasks[name]
	switch {
	case !ok || task.Run == nil:
		return control.Fail(ExitUsage, "unknown task %q\nTry: %s rpc   (lists the tasks)", name, r.name)
	case !task.Via.rpc():
		return control.Fail(ExitUsage, "task %s runs only in a fresh process, not inside the running system\nTry: %s eval %s %s", name, r.name, name, task.Usage)
	}
	defer func() {
		if p := recover(); p != nil {
			log.Error("rpc task panicked", "task", name, "panic", p, "stack", string(debug.Stack()))
			res = control.Fail(ExitFailure, "task %s panicked: %v", name, p)
		}
	}()
	tlog := log.With("task", name, "via", "rpc")
	tlog.Info("rpc task started", "caller_pid", st.Peer().PID)
	call := &Call[C]{Args: args[1:], Config: cfg, Logger: tlog, Stdin: strings.NewReader(""), Stdout: st.Stdout(), Stderr: st.Stderr()}
	err := task.Run(ctx, call)
	var u *UsageError
	switch {
	case err == nil:
		tlog.Info("rpc task done")
		return control.Result{}
	case errors.As(err, &u):
		try := u.Try
		if try == "" {
			try = strings.TrimSpace(fmt.Sprintf("%s rpc %s %s", r.name, name, task.Usage))
		}
		return control.Fail(ExitUsage, "%s\nTry: %s", u.Problem, try)
	default:
		tlog.Error("rpc task failed", "err", err)
		return control.Fail(ExitFailure, "task %s: %v", name, err)
	}
}
