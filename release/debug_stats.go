package release

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"text/tabwriter"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/server"
)

// debugStatsReport is what debug stats answers, and prints with -json.
type debugStatsReport struct {
	Name       string    `json:"name"`
	Version    string    `json:"version"`
	Generation int       `json:"generation,omitempty"`
	PID        int       `json:"pid"`
	Started    time.Time `json:"started"`
	UptimeSec  float64   `json:"uptime_seconds"`
	GoVersion  string    `json:"go_version"`
	LogLevel   string    `json:"log_level"`
	Goroutines uint64    `json:"goroutines"`
	Heap       struct {
		InUseBytes uint64 `json:"in_use_bytes"`
		Objects    uint64 `json:"objects"`
		GoalBytes  uint64 `json:"goal_bytes"`
		TotalBytes uint64 `json:"total_bytes"` // all memory mapped by the runtime
	} `json:"heap"`
	GC struct {
		Cycles          uint64  `json:"cycles"`
		PauseTotalSec   float64 `json:"pause_total_seconds"`
		CPUFraction     float64 `json:"cpu_fraction"`
		AllocatedBytes  uint64  `json:"allocated_bytes"` // since the process started
		GOGC            uint64  `json:"gogc"`
		MemoryLimitByte uint64  `json:"memory_limit_bytes"`
	} `json:"gc"`
	// HTTP is nil when the app runs no HTTP server.
	HTTP *server.Stats `json:"http,omitempty"`
}

// debugStats prints the running app's numbers: what it runs, how long,
// its goroutines, heap and GC, and what its HTTP server serves.
func debugStats(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("debug stats", "[-json]", "print the running app's version, generation, uptime, goroutines, heap, GC, connections and requests")
	asJSON := fs.Bool("json", false, "print the numbers as JSON, for scripts")
	if err := r.noArgs(fs, args, r.app.name+" debug stats"); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := r.callDebug(ctx, &buf, "stats"); err != nil {
		return err
	}
	if *asJSON {
		_, err := r.stdout.Write(buf.Bytes())
		return err
	}
	var st debugStatsReport
	if err := json.Unmarshal(buf.Bytes(), &st); err != nil {
		return fmt.Errorf("debug stats: the running app answered something else than its numbers: %w", err)
	}
	tw := tabwriter.NewWriter(r.stdout, 0, 0, 2, ' ', 0)
	gen := "-"
	if st.Generation > 0 {
		gen = fmt.Sprint(st.Generation)
	}
	fmt.Fprintf(tw, "release\t%s %s (generation %s, pid %d, %s)\n", st.Name, st.Version, gen, st.PID, st.GoVersion)
	fmt.Fprintf(tw, "uptime\t%s (since %s)\n", (time.Duration(st.UptimeSec) * time.Second).String(), st.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(tw, "log level\t%s\n", st.LogLevel)
	fmt.Fprintf(tw, "goroutines\t%d\n", st.Goroutines)
	fmt.Fprintf(tw, "heap\t%s in use, %d objects, goal %s; %s mapped in all\n", mib(st.Heap.InUseBytes), st.Heap.Objects, mib(st.Heap.GoalBytes), mib(st.Heap.TotalBytes))
	fmt.Fprintf(tw, "gc\t%d cycles, %s paused in all, %.2f%% of CPU; %s allocated since start\n",
		st.GC.Cycles, time.Duration(st.GC.PauseTotalSec*float64(time.Second)).Round(time.Microsecond), 100*st.GC.CPUFraction, mib(st.GC.AllocatedBytes))
	if h := st.HTTP; h != nil {
		fmt.Fprintf(tw, "connections\t%d open\n", h.Connections)
		fmt.Fprintf(tw, "requests\t%d served, %d in flight\n", h.Requests, h.InFlight)
	} else {
		fmt.Fprintf(tw, "http\tno HTTP server runs\n")
	}
	return tw.Flush()
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// statsMetrics are read with runtime/metrics, which, unlike
// runtime.ReadMemStats, does not stop the world.
var statsMetrics = []string{
	"/sched/goroutines:goroutines",
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/objects:objects",
	"/gc/heap/goal:bytes",
	"/memory/classes/total:bytes",
	"/gc/cycles/total:gc-cycles",
	"/sched/pauses/total/gc:seconds",
	"/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/total:cpu-seconds",
	"/gc/heap/allocs:bytes",
	"/gc/gogc:percent",
	"/gc/gomemlimit:bytes",
}

func serveDebugStats(_ context.Context, r *runner, _ []string, w io.Writer) control.Result {
	var st debugStatsReport
	st.Name, st.Version, st.PID, st.GoVersion = r.app.name, r.app.version, os.Getpid(), runtime.Version()
	if g, ok := r.generation(); ok {
		st.Generation = g.Number
	}
	st.Started = r.ops.started
	st.UptimeSec = time.Since(r.ops.started).Round(time.Second).Seconds()
	st.LogLevel = r.ops.level.Level().String()
	samples := make([]metrics.Sample, len(statsMetrics))
	for i, name := range statsMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples)
	u := func(i int) uint64 {
		if samples[i].Value.Kind() == metrics.KindUint64 {
			return samples[i].Value.Uint64()
		}
		return 0
	}
	f := func(i int) float64 {
		if samples[i].Value.Kind() == metrics.KindFloat64 {
			return samples[i].Value.Float64()
		}
		return 0
	}
	st.Goroutines = u(0)
	st.Heap.InUseBytes, st.Heap.Objects, st.Heap.GoalBytes, st.Heap.TotalBytes = u(1), u(2), u(3), u(4)
	st.GC.Cycles = u(5)
	if samples[6].Value.Kind() == metrics.KindFloat64Histogram {
		st.GC.PauseTotalSec = histogramSum(samples[6].Value.Float64Histogram())
	}
	if total := f(8); total > 0 {
		st.GC.CPUFraction = f(7) / total
	}
	st.GC.AllocatedBytes, st.GC.GOGC, st.GC.MemoryLimitByte = u(9), u(10), u(11)
	if srv := r.ops.server.Load(); srv != nil {
		s := srv.Stats()
		st.HTTP = &s
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&st); err != nil {
		return control.Fail(ExitFailure, "debug stats: %v", err)
	}
	return control.Result{}
}

// histogramSum estimates the sum of a histogram's samples from each
// bucket's midpoint (its lower bound for the open last bucket).
func histogramSum(h *metrics.Float64Histogram) float64 {
	var sum float64
	for i, n := range h.Counts {
		if n == 0 {
			continue
		}
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		v := lo
		switch {
		case lo < -1e300: // -Inf
			v = hi
		case hi < 1e300:
			v = (lo + hi) / 2
		}
		sum += v * float64(n)
	}
	return sum
}
