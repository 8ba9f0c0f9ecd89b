package supervisor

import (
	"context"
	"errors"

	"github.com/relkit/relkit/internal/control"
)

// ServeControl answers the control requests of a supervised system, making
// the Supervisor a [control.Handler]: ping and pid describe the supervisor
// (the process a PID file and service manager know); stop stops the system
// and answers once it has; restart replaces the app; rpc is passed on to
// the current generation's own control socket, its output streamed back.
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
	case control.OpRPC:
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
