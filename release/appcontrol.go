package release

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/pidfile"
	"github.com/relkit/relkit/internal/supervised"
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
func (r *runner) serveControl(stop context.CancelCauseFunc, cfg any, log *slog.Logger) (closeFn func(), err error) {
	gen, supervised := r.generation()
	path, mode := gen.ControlSocket, control.ModeGeneration
	var lock *pidfile.Lock
	var root string
	if !supervised {
		mode = control.ModeForeground
		p, err := r.settings.Paths()
		if err != nil {
			return nil, err
		}
		if err := p.mkdirs(); err != nil {
			return nil, &exitError{Code: failureCode(err), Err: err}
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
		Name: r.app.name, Version: r.app.version, PID: os.Getpid(), Mode: mode, Root: root,
		Started: time.Now(), Instance: hex.EncodeToString(id[:]), Protocol: control.Version,
		Ops: []string{control.OpPing, control.OpPID, control.OpStop, control.OpRPC, control.OpMaintenance, control.OpDebug},
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
				return control.Fail(1, "stop: interrupted while waiting for %s to stop", r.app.name)
			}
		case control.OpRestart:
			return control.Fail(1, "restart: %s runs in the foreground (%s start), so nothing holds its socket while it is replaced; run it with `%s daemon` to restart without downtime, or stop and start it", r.app.name, r.app.name, r.app.name)
		case control.OpUpgrade:
			return control.Fail(1, "upgrade: %s runs without a supervisor (%s start of a development build), so nothing holds its socket while the release is switched; run an assembled release (relkit build), whose start and daemon are supervised", r.app.name, r.app.name)
		case control.OpMaintenance:
			if err := r.reloadMaintenance(log); err != nil {
				return control.Fail(1, "maintenance: %v", err)
			}
			return control.Result{}
		case control.OpDebug:
			return r.serveDebug(ctx, req.Args, st)
		case control.OpRPC:
			return r.runTask(ctx, req.Args, st, cfg, log)
		case control.OpHandoff:
			if mode == control.ModeGeneration {
				return r.exportState(ctx, log)
			}
		}
		return control.Fail(64, "unknown request %q: %s %s answers %s", req.Op, r.app.name, r.app.version, strings.Join(info.Ops, ", "))
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
func (r *runner) alreadyRunning(p runtimePaths) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if info, err := control.Ping(ctx, p.socket); err == nil {
		return fmt.Errorf("%s is already running (pid %d); stop it first: %s stop", r.app.name, info.PID, r.app.name)
	}
	return fmt.Errorf("%s is already running (another process holds %s but does not answer on %s yet; if it is starting, wait; check with %s pid)", r.app.name, p.lock, p.socket, r.app.name)
}

// generation returns what the supervisor told this process, and false
// when no supervisor started it.
func (r *runner) generation() (supervised.Generation, bool) {
	return supervised.FromEnv(r.env.Map())
}
