package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/supervised"
)

// takeHandoff asks old for the state it hands to its successor and writes
// it to a private file in Tmp, whose path it returns for the new
// generation (RELKIT_HANDOFF_FILE); cleanup removes the file. An old generation
// that has exited, has no state to hand over, or runs a release that does
// not know the handoff request hands over nothing. An old generation that
// fails to export its state fails the switch.
func (s *Supervisor) takeHandoff(ctx context.Context, old *generation) (file string, cleanup func(), err error) {
	cleanup = func() {}
	if old == nil || old.hasExited() || old.control == "" {
		return "", cleanup, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.HandoffTimeout)
	defer cancel()
	res, err := control.Call(ctx, old.control, control.Request{Op: control.OpHandoff}, control.Output{})
	switch {
	case errors.Is(err, control.ErrNotRunning):
		s.cfg.Logger.Info("handoff: the old generation serves no control socket; nothing handed over", "generation", old.n)
		return "", cleanup, nil
	case err != nil:
		return "", cleanup, fmt.Errorf("handoff: ask generation %d (pid %d) for its state: %w", old.n, old.pid, err)
	case res.Status == 64:
		s.cfg.Logger.Info("handoff: the old generation's release does not hand over state", "generation", old.n, "version", old.rel.Version)
		return "", cleanup, nil
	case res.Status != 0:
		return "", cleanup, fmt.Errorf("handoff: generation %d (pid %d) could not export its state: %s", old.n, old.pid, res.Error)
	case res.Handoff == nil:
		return "", cleanup, nil
	}
	p, err := s.socketPath(old.n, "handoff")
	if err != nil {
		return "", cleanup, err
	}
	os.Remove(p) // a stale one from an earlier run
	if err := supervised.WriteHandoff(p, res.Handoff); err != nil {
		return "", cleanup, err
	}
	cleanup = func() { os.Remove(p) }
	s.cfg.Logger.Info("handoff: state taken from the old generation", "generation", old.n, "format", res.Handoff.Format, "bytes", len(res.Handoff.Data))
	return p, cleanup, nil
}
