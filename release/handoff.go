package release

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/supervised"
)

// Handoff carries an application's in-memory state (counters, caches,
// sessions) from the running release to the one replacing it, as Erlang's
// code_change carries a process's state across a hot upgrade. Set Export
// and Import in [App].Handoff; without them nothing is handed over.
//
// It runs at upgrade, downgrade and restart of a supervised system, never
// after a crash: the supervisor asks the running release to Export, starts
// the new release, which Imports before it serves and reports ready, and
// only then stops the old one. The old release keeps serving in between,
// so changes it makes after Export are not carried over; Export runs
// concurrently with requests and must synchronise with them.
type Handoff struct {
	// Format is the version of the data Export writes; Import receives the
	// format of the data it is given and decides what it can read (an
	// upgrade hands it an older format, a downgrade maybe a newer one).
	// Default 0.
	Format int

	// Export returns the state to hand over. It runs in the old release,
	// within Timeout. An error fails the switch: the old release keeps
	// serving. Nil: nothing is handed over.
	Export func(ctx context.Context) ([]byte, error)

	// Import takes over the state the previous release exported, in the
	// given format. It runs in the new release after [App].Handler has
	// returned and before the server serves, within Timeout. An error
	// (for example a format it cannot read) fails the boot, so the switch
	// fails and the old release keeps serving with its state; return nil
	// to start afresh instead. Nil: handed-over state is ignored.
	Import func(ctx context.Context, format int, data []byte) error

	// MaxSize bounds the state in bytes, on both sides: Export returning
	// more fails, and Import is never given more. Default 16 MiB.
	MaxSize int

	// Timeout bounds Export and Import each. Default 10s.
	Timeout time.Duration
}

// Defaults of [Handoff].
const (
	DefaultHandoffMaxSize = 16 << 20
	DefaultHandoffTimeout = 10 * time.Second
)

func (h Handoff) maxSize() int {
	if h.MaxSize > 0 {
		return h.MaxSize
	}
	return DefaultHandoffMaxSize
}

func (h Handoff) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return DefaultHandoffTimeout
}

// exportState answers the supervisor's handoff request in the old
// release.
func (r *runner) exportState(ctx context.Context, log *slog.Logger) control.Result {
	h := r.app.handoff
	if h.Export == nil {
		return control.Result{}
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout())
	defer cancel()
	start := time.Now()
	data, err := h.Export(ctx)
	switch {
	case err != nil:
		log.Error("handoff: export failed", "err", err)
		return control.Fail(ExitFailure, "Handoff.Export of %s %s: %v", r.app.name, r.app.version, err)
	case len(data) > h.maxSize():
		log.Error("handoff: exported state too large", "bytes", len(data), "max", h.maxSize())
		return control.Fail(ExitFailure, "Handoff.Export of %s %s returned %d bytes, more than Handoff.MaxSize (%d)", r.app.name, r.app.version, len(data), h.maxSize())
	}
	log.Info("handoff: state exported", "format", h.Format, "bytes", len(data), "took", time.Since(start).Round(time.Microsecond).String())
	return control.Result{Handoff: &control.Handoff{Format: h.Format, Data: data}}
}

// importState takes over the state the supervisor hands this new
// generation, before it serves.
func (r *runner) importState(ctx context.Context, log *slog.Logger) error {
	gen, _ := r.generation()
	file := gen.HandoffFile
	if file == "" {
		return nil
	}
	h := r.app.handoff
	if h.Import == nil {
		log.Info("handoff: the previous release handed over state, but this one has no Handoff.Import; starting afresh")
		return nil
	}
	st, err := supervised.ReadHandoff(file, h.maxSize())
	if err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout())
	defer cancel()
	start := time.Now()
	if err := h.Import(ctx, st.Format, st.Data); err != nil {
		return fmt.Errorf("handoff: Handoff.Import of %d bytes in format %d: %w", len(st.Data), st.Format, err)
	}
	log.Info("handoff: state imported", "format", st.Format, "bytes", len(st.Data), "took", time.Since(start).Round(time.Microsecond).String())
	return nil
}
