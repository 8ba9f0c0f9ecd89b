package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/relkit/relkit/internal/control"
)

// takeHandoff asks old for the state it hands to its successor and writes
// it to a private file in Tmp, returned as EnvHandoffFile for the new
// generation's environment; cleanup removes the file. An old generation
// that has exited, has no state to hand over, or runs a release that does
// not know the handoff request hands over nothing. An old generation that
// fails to export its state fails the switch.
func (s *Supervisor) takeHandoff(ctx context.Context, old *generation) (extra map[string]string, cleanup func(), err error) {
	cleanup = func() {}
	if old == nil || old.hasExited() || old.control == "" {
		return nil, cleanup, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.HandoffTimeout)
	defer cancel()
	res, err := control.Call(ctx, old.control, control.Request{Op: control.OpHandoff}, control.Output{})
	switch {
	case errors.Is(err, control.ErrNotRunning):
		s.cfg.Logger.Info("handoff: the old generation serves no control socket; nothing handed over", "generation", old.n)
		return nil, cleanup, nil
	case err != nil:
		return nil, cleanup, fmt.Errorf("handoff: ask generation %d (pid %d) for its state: %w", old.n, old.pid, err)
	case res.Status == 64:
		s.cfg.Logger.Info("handoff: the old generation's release does not hand over state", "generation", old.n, "version", old.rel.Version)
		return nil, cleanup, nil
	case res.Status != 0:
		return nil, cleanup, fmt.Errorf("handoff: generation %d (pid %d) could not export its state: %s", old.n, old.pid, res.Error)
	case res.Handoff == nil:
		return nil, cleanup, nil
	}
	p, err := s.socketPath(old.n, "handoff")
	if err != nil {
		return nil, cleanup, err
	}
	os.Remove(p) // a stale one from an earlier run
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, cleanup, fmt.Errorf("handoff: %w", err)
	}
	cleanup = func() { os.Remove(p) }
	err = json.NewEncoder(f).Encode(res.Handoff)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, cleanup, fmt.Errorf("handoff: write %s: %w", p, err)
	}
	s.cfg.Logger.Info("handoff: state taken from the old generation", "generation", old.n, "format", res.Handoff.Format, "bytes", len(res.Handoff.Data))
	return map[string]string{EnvHandoffFile: p}, cleanup, nil
}

// ReadHandoff reads the state file a supervisor names in a generation's
// RELKIT_HANDOFF_FILE. It refuses data of more than maxSize bytes.
func ReadHandoff(path string, maxSize int) (*control.Handoff, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the handed-over state: %w", err)
	}
	defer f.Close()
	// base64 takes 4 bytes per 3, plus the JSON around it.
	limit := int64(maxSize)/3*4 + 1024
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read the handed-over state: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("the handed-over state in %s is larger than the %d bytes this release accepts", path, maxSize)
	}
	var h control.Handoff
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("read the handed-over state %s: %w", path, err)
	}
	if len(h.Data) > maxSize {
		return nil, fmt.Errorf("the handed-over state is %d bytes, more than the %d this release accepts", len(h.Data), maxSize)
	}
	return &h, nil
}
