package release

import (
	"context"
	"io"
	"runtime/pprof"
	"strconv"

	"github.com/relkit/relkit/internal/control"
)

// debugCPU profiles the running app's CPU for -seconds and writes the
// profile to -o FILE, for go tool pprof.
func debugCPU(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("debug cpu", "[-seconds N] -o FILE", "profile the running app's CPU for N seconds into FILE (go tool pprof reads it)")
	out := fs.String("o", "", "the file to write (must not exist)")
	secs := fs.Int("seconds", 30, "how long to profile, 1 to 300")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if err := r.checkSeconds("cpu", *secs); err != nil {
		return err
	}
	return r.debugToFile(ctx, "cpu", *out, strconv.Itoa(*secs))
}

func serveDebugCPU(ctx context.Context, _ *runner, args []string, w io.Writer) control.Result {
	d, bad := profileFor(ctx, "cpu", args)
	if bad != nil {
		return *bad
	}
	if err := pprof.StartCPUProfile(w); err != nil {
		return control.Fail(ExitFailure, "debug cpu: %v (is another CPU profile running?)", err)
	}
	sleepCtx(ctx, d)
	pprof.StopCPUProfile()
	return control.Result{}
}
