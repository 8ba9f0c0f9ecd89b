package release

import (
	"context"
	"io"
	"runtime"
	"runtime/pprof"
	"strconv"

	"github.com/relkit/relkit/internal/control"
)

// blockRate is the block profile's rate while debug block records: one
// sample per 10 µs spent blocked, on average.
const blockRate = 10_000

// debugBlock records where the running app's goroutines block (channels,
// select, sync.Cond, locks) for -seconds into -o FILE, for go tool pprof.
func debugBlock(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("debug block", "[-seconds N] -o FILE", "record where the running app's goroutines block for N seconds into FILE (go tool pprof reads it)")
	out := fs.String("o", "", "the file to write (must not exist)")
	secs := fs.Int("seconds", 10, "how long to record, 1 to 300")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if err := r.checkSeconds("block", *secs); err != nil {
		return err
	}
	return r.debugToFile(ctx, "block", *out, strconv.Itoa(*secs))
}

// serveDebugBlock turns the block profile on for the duration: off, as
// the runtime starts it, blocking costs nothing to record. The profile
// holds what every recording of this process saw.
func serveDebugBlock(ctx context.Context, r *runner, args []string, w io.Writer) control.Result {
	d, bad := profileFor(ctx, "block", args)
	if bad != nil {
		return *bad
	}
	if !r.ops.recording.block.CompareAndSwap(false, true) {
		return control.Fail(ExitFailure, "debug block: another debug block is recording; wait for it")
	}
	defer r.ops.recording.block.Store(false)
	runtime.SetBlockProfileRate(blockRate)
	sleepCtx(ctx, d)
	runtime.SetBlockProfileRate(0)
	if err := pprof.Lookup("block").WriteTo(w, 0); err != nil {
		return control.Fail(ExitFailure, "debug block: %v", err)
	}
	return control.Result{}
}
