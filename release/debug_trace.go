package release

import (
	"context"
	"io"
	"runtime/trace"
	"strconv"

	"github.com/relkit/relkit/internal/control"
)

// debugTrace records an execution trace of the running app for -seconds
// into -o FILE, for go tool trace.
func debugTrace(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("debug trace", "[-seconds N] -o FILE", "record the running app's execution trace for N seconds into FILE (go tool trace reads it)")
	out := fs.String("o", "", "the file to write (must not exist)")
	secs := fs.Int("seconds", 5, "how long to trace, 1 to 300")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if err := r.checkSeconds("trace", *secs); err != nil {
		return err
	}
	return r.debugToFile(ctx, "trace", *out, strconv.Itoa(*secs))
}

func serveDebugTrace(ctx context.Context, _ *runner, args []string, w io.Writer) control.Result {
	d, bad := profileFor(ctx, "trace", args)
	if bad != nil {
		return *bad
	}
	if err := trace.Start(w); err != nil {
		return control.Fail(ExitFailure, "debug trace: %v (is another trace running?)", err)
	}
	sleepCtx(ctx, d)
	trace.Stop()
	return control.Result{}
}
