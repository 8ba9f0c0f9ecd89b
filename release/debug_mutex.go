package release

import (
	"context"
	"io"
	"runtime"
	"runtime/pprof"
	"strconv"

	"github.com/relkit/relkit/internal/control"
)

// mutexFraction samples one in this many contended lock releases while
// debug mutex records.
const mutexFraction = 5

// debugMutex records the running app's contended locks for -seconds into
// -o FILE, for go tool pprof.
func debugMutex(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("debug mutex", "[-seconds N] -o FILE", "record the running app's contended locks for N seconds into FILE (go tool pprof reads it)")
	out := fs.String("o", "", "the file to write (must not exist)")
	secs := fs.Int("seconds", 10, "how long to record, 1 to 300")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if err := r.checkSeconds("mutex", *secs); err != nil {
		return err
	}
	return r.debugToFile(ctx, "mutex", *out, strconv.Itoa(*secs))
}

// serveDebugMutex turns mutex profiling on for the duration, as
// serveDebugBlock does the block profile.
func serveDebugMutex(ctx context.Context, r *runner, args []string, w io.Writer) control.Result {
	d, bad := profileFor(ctx, "mutex", args)
	if bad != nil {
		return *bad
	}
	if !r.ops.recording.mutex.CompareAndSwap(false, true) {
		return control.Fail(ExitFailure, "debug mutex: another debug mutex is recording; wait for it")
	}
	defer r.ops.recording.mutex.Store(false)
	runtime.SetMutexProfileFraction(mutexFraction)
	sleepCtx(ctx, d)
	runtime.SetMutexProfileFraction(0)
	if err := pprof.Lookup("mutex").WriteTo(w, 0); err != nil {
		return control.Fail(ExitFailure, "debug mutex: %v", err)
	}
	return control.Result{}
}
