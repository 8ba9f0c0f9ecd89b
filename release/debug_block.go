package release

import (
	"runtime"
	"sync/atomic"
)

// blockRate is the block profile's rate while debug block records: one
// sample per 10 µs spent blocked, on average.
const blockRate = 10_000

// blockProfile is debug block: where the running app's goroutines block
// (channels, select, sync.Cond, locks), recorded for -seconds into -o
// FILE for go tool pprof. Off, as the runtime starts it, blocking costs
// nothing to record.
var blockProfile = contentionProfile{
	name:      "block",
	summary:   "record where the running app's goroutines block for N seconds into FILE (go tool pprof reads it)",
	on:        func() { runtime.SetBlockProfileRate(blockRate) },
	off:       func() { runtime.SetBlockProfileRate(0) },
	recording: func(r *runner) *atomic.Bool { return &r.ops.recording.block },
}
