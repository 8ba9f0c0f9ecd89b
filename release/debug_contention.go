package release

import (
	"context"
	"io"
	"runtime/pprof"
	"strconv"
	"sync/atomic"

	"github.com/relkit/relkit/internal/control"
)

// contentionProfile is a profile the runtime records only while it is
// switched on, at a cost: debug block and debug mutex.
type contentionProfile struct {
	name, summary string
	// on and off switch the runtime's recording.
	on, off func()
	// recording is the app's flag that one recording runs.
	recording func(*runner) *atomic.Bool
}

// request records p for -seconds into -o FILE, asking the running app.
func (p contentionProfile) request(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("debug "+p.name, "[-seconds N] -o FILE", p.summary)
	out := fs.String("o", "", "the file to write (must not exist)")
	secs := fs.Int("seconds", 10, "how long to record, 1 to 300")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if err := r.checkSeconds(p.name, *secs); err != nil {
		return err
	}
	return r.debugToFile(ctx, p.name, *out, strconv.Itoa(*secs))
}

// serve, in the app, switches p's recording on for the duration and writes
// the profile, which holds what every recording of this process saw.
func (p contentionProfile) serve(ctx context.Context, r *runner, args []string, w io.Writer) control.Result {
	d, bad := profileFor(ctx, p.name, args)
	if bad != nil {
		return *bad
	}
	rec := p.recording(r)
	if !rec.CompareAndSwap(false, true) {
		return control.Fail(ExitFailure, "debug %s: another debug %s is recording; wait for it", p.name, p.name)
	}
	defer rec.Store(false)
	p.on()
	sleepCtx(ctx, d)
	p.off()
	if err := pprof.Lookup(p.name).WriteTo(w, 0); err != nil {
		return control.Fail(ExitFailure, "debug %s: %v", p.name, err)
	}
	return control.Result{}
}
