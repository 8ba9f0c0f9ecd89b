package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/layout"
)

// ServeControl answers the control requests of a supervised system, making
// the Supervisor a [control.Handler]: ping and pid describe the supervisor
// (the process a PID file and service manager know); stop stops the system
// and answers once it has; restart replaces the app; rpc is passed on to
// the current generation's own control socket, its output streamed back;
// upgrade switches to the installed release named by its argument (see
// [Supervisor.Upgrade]).
func (s *Supervisor) ServeControl(ctx context.Context, req control.Request, st *control.Stream) control.Result {
	switch req.Op {
	case control.OpPing:
		info := s.Info()
		return control.Result{Info: &info}
	case control.OpPID:
		return control.Result{PID: s.Info().PID}
	case control.OpStop:
		st.Event("stopping")
		s.Stop()
		select {
		case <-s.done:
			return control.Result{}
		case <-ctx.Done():
			return control.Fail(1, "stop: interrupted while waiting for the system to stop")
		}
	case control.OpRestart:
		pid, err := s.Restart(ctx)
		if err != nil {
			return control.Fail(1, "%v", err)
		}
		return control.Result{PID: pid}
	case control.OpUpgrade:
		return s.serveUpgrade(ctx, req, st)
	case control.OpRPC, control.OpMaintenance, control.OpDebug:
		g := s.current()
		if g == nil {
			return control.Fail(1, "rpc: the app is not running right now (it is restarting or stopping); try again")
		}
		res, err := control.Call(ctx, g.control, req, control.Output{
			Stdout: st.Stdout(),
			Stderr: st.Stderr(),
			Event:  func(e string) { st.Event(e) },
		})
		switch {
		case errors.Is(err, control.ErrNotRunning):
			return control.Fail(1, "rpc: the app (generation %d, pid %d) does not serve rpc on %s; is it built with a release that supports rpc?", g.n, g.pid, g.control)
		case err != nil:
			return control.Fail(1, "rpc: %v", err)
		}
		return res
	}
	return control.Fail(64, "unknown request %q: this system (%s %s, relkit control protocol %d) answers %v",
		req.Op, s.cfg.Name, s.cfg.Version, control.Version, s.Info().Ops)
}

var _ control.Handler = (*Supervisor)(nil)

// serveUpgrade switches to release Args[0], installed as
// Root/releases/VSN/NAME. A failure's message ends with the new release's
// last lines of output.
func (s *Supervisor) serveUpgrade(ctx context.Context, req control.Request, st *control.Stream) control.Result {
	if len(req.Args) != 1 {
		return control.Fail(64, "upgrade needs exactly one argument, the version to switch to")
	}
	vsn := req.Args[0]
	if vsn == "" || vsn == "." || vsn == ".." || strings.ContainsAny(vsn, "/\\\x00") {
		return control.Fail(64, "upgrade: %q is not a release version", vsn)
	}
	if s.cfg.Root == "" {
		return control.Fail(1, "upgrade: this supervisor knows no release root (Config.Root), so it cannot find release %s", vsn)
	}
	bin := layout.Binary(s.cfg.Root, vsn, s.cfg.Name)
	info, err := os.Stat(bin)
	switch {
	case err != nil:
		return control.Fail(1, "upgrade: release %s is not installed: %v", vsn, err)
	case !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0:
		return control.Fail(1, "upgrade: %s is not an executable file", bin)
	}
	if cur := s.release(); cur.Version == vsn && cur.Binary == bin {
		return control.Fail(1, "upgrade: release %s is running already", vsn)
	}
	st.Event("starting " + vsn)
	pid, err := s.Upgrade(ctx, Release{Binary: bin, Version: vsn}, time.Duration(req.TimeoutMS)*time.Millisecond)
	if err != nil {
		msg := err.Error()
		var se *SwitchError
		if errors.As(err, &se) && len(se.Output) > 0 {
			msg += fmt.Sprintf("\nLast lines of release %s's output:\n  %s", vsn, strings.Join(se.Output, "\n  "))
		}
		return control.Fail(1, "%s", msg)
	}
	return control.Result{PID: pid, Version: vsn}
}
