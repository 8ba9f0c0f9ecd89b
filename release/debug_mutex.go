package release

import (
	"runtime"
	"sync/atomic"
)

// mutexFraction samples one in this many contended lock releases while
// debug mutex records.
const mutexFraction = 5

// mutexProfile is debug mutex: the running app's contended locks,
// recorded for -seconds into -o FILE for go tool pprof.
var mutexProfile = contentionProfile{
	name:      "mutex",
	summary:   "record the running app's contended locks for N seconds into FILE (go tool pprof reads it)",
	on:        func() { runtime.SetMutexProfileFraction(mutexFraction) },
	off:       func() { runtime.SetMutexProfileFraction(0) },
	recording: func(r *runner) *atomic.Bool { return &r.ops.recording.mutex },
}
