package release

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/server"
)

const debugSummary = "look inside the running app over the control socket: debug stack | stats | heap, cpu, trace, block, mutex -o FILE | log-level LEVEL"

const debugUsage = `Usage: %[1]s debug SUBCOMMAND [flags]

Look inside the running app over its control socket (refused for other
users); files are written only to -o FILE, which must not exist.

  stack                             every goroutine's stack, as SIGQUIT prints it
  stats [-json]                     version, generation, uptime, goroutines, heap, GC, connections, requests
  heap -o FILE                      heap profile (go tool pprof FILE)
  cpu [-seconds 30] -o FILE         CPU profile (go tool pprof FILE)
  trace [-seconds 5] -o FILE        execution trace (go tool trace FILE)
  block [-seconds 10] -o FILE       where goroutines block (go tool pprof FILE)
  mutex [-seconds 10] -o FILE       contended locks (go tool pprof FILE)
  log-level LEVEL [-for DURATION]   debug, info, warn, error or reset; until -for passes or a restart

%[1]s debug SUBCOMMAND -h shows its flags.
`

// maxDebugOutput bounds what one debug request writes to the caller's
// file or terminal.
const maxDebugOutput = 512 << 20

// debugCommand dispatches to its subcommands, one file each.
type debugCommand struct{}

func (c *debugCommand) run(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 {
		return &UsageError{Problem: "debug needs a subcommand: " + debugNames(), Try: r.app.name + " debug stack"}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(r.stdout, debugUsage, r.app.name)
		return errHelp
	case "stack":
		return debugStack(ctx, r, args[1:])
	case "heap":
		return debugHeap(ctx, r, args[1:])
	case "cpu":
		return debugCPU(ctx, r, args[1:])
	case "trace":
		return debugTrace(ctx, r, args[1:])
	case "block":
		return blockProfile.request(ctx, r, args[1:])
	case "mutex":
		return mutexProfile.request(ctx, r, args[1:])
	case "stats":
		return debugStats(ctx, r, args[1:])
	case "log-level":
		return debugLogLevel(ctx, r, args[1:])
	}
	return &UsageError{Problem: fmt.Sprintf("debug: unknown subcommand %q (%s)", args[0], debugNames()), Try: r.app.name + " debug stack"}
}

// callDebug sends a debug request to the running app and streams its
// output, at most maxDebugOutput bytes, to out.
func (r *runner) callDebug(ctx context.Context, out io.Writer, args ...string) error {
	p, err := r.settings.Paths()
	if err != nil {
		return err
	}
	lw := &limitedWriter{w: out, n: maxDebugOutput}
	res, err := control.Call(ctx, p.socket, control.Request{Op: control.OpDebug, Args: args}, control.Output{Stdout: lw, Stderr: r.stderr})
	if errors.Is(err, control.ErrNotRunning) {
		return r.notRunning(p)
	}
	if err != nil {
		return err
	}
	if lw.over {
		return fmt.Errorf("debug %s: output cut off at %d bytes", args[0], maxDebugOutput)
	}
	if res.Status != 0 {
		return &exitError{Code: res.Status, Err: res.Err()}
	}
	return nil
}

// createOutput opens the caller's -o file, refusing to overwrite one.
func createOutput(name, path string) (*os.File, error) {
	if path == "" {
		return nil, &UsageError{Problem: fmt.Sprintf("debug %s needs -o FILE, where the profile is written", name), Try: fmt.Sprintf("debug %s -o %s.pprof", name, name)}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("debug %s: %w (choose a new file name)", name, err)
	}
	return f, nil
}

type limitedWriter struct {
	w    io.Writer
	n    int64
	over bool
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		l.over = true
		return 0, errors.New("debug output too large")
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}

// opsState is what the debug requests read and change inside the app
// process.
type opsState struct {
	// level is the logger's level (newLogger sets it from LOG_LEVEL;
	// debug log-level changes it).
	level slog.LevelVar
	// started is when the process booted, for debug stats.
	started time.Time
	// server is the HTTP server once it runs, for debug stats.
	server atomic.Pointer[server.Server]

	// recording is set while debug block or mutex records.
	recording struct{ block, mutex atomic.Bool }

	mu        sync.Mutex
	log       *slog.Logger // the app's, set at boot
	baseLevel *slog.Level  // LOG_LEVEL, while debug log-level overrides it
	revert    *time.Timer  // reverts the override after -for
	overrides int          // counts changes, so a stale revert does nothing
}

// debugServers are the subcommands the app answers; each lives in
// debug_NAME.go with its command-line side.
var debugServers = map[string]func(ctx context.Context, r *runner, args []string, w io.Writer) control.Result{
	"stack":     serveDebugStack,
	"heap":      serveDebugHeap,
	"cpu":       serveDebugCPU,
	"trace":     serveDebugTrace,
	"block":     blockProfile.serve,
	"mutex":     mutexProfile.serve,
	"stats":     serveDebugStats,
	"log-level": serveDebugLogLevel,
}

// serveDebug answers a debug request inside the app process. The output
// is streamed to the caller in chunks of at most 64 KiB.
func (r *runner) serveDebug(ctx context.Context, args []string, st *control.Stream) control.Result {
	if len(args) == 0 {
		return control.Fail(ExitUsage, "debug needs a subcommand")
	}
	serve, ok := debugServers[args[0]]
	if !ok {
		return control.Fail(ExitUsage, "debug: unknown subcommand %q (this release answers %s)", args[0], debugNames())
	}
	bw := bufio.NewWriterSize(&limitedWriter{w: st.Stdout(), n: maxDebugOutput}, 64<<10)
	res := serve(ctx, r, args[1:], bw)
	if err := bw.Flush(); err != nil && res.Status == 0 {
		return control.Fail(ExitFailure, "debug %s: %v", args[0], err)
	}
	return res
}

func debugNames() string {
	names := make([]string, 0, len(debugServers))
	for n := range debugServers {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// profileFor runs for secs seconds (1 to 300, from args[0]), or until the
// request is cancelled.
func profileFor(ctx context.Context, name string, args []string) (time.Duration, *control.Result) {
	secs := 30
	if len(args) > 0 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 || n > 300 {
			res := control.Fail(ExitUsage, "debug %s: -seconds must be 1 to 300", name)
			return 0, &res
		}
		secs = n
	}
	return time.Duration(secs) * time.Second, nil
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// debugToFile runs debug NAME ARGS in the running app into the caller's
// new file path; a failed run removes what it wrote.
func (r *runner) debugToFile(ctx context.Context, name, path string, args ...string) error {
	f, err := createOutput(name, path)
	if err != nil {
		return err
	}
	err = r.callDebug(ctx, f, append([]string{name}, args...)...)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// checkSeconds checks the -seconds of a timed profile.
func (r *runner) checkSeconds(name string, secs int) error {
	if secs < 1 || secs > 300 {
		return &UsageError{Problem: fmt.Sprintf("debug %s: -seconds %d is not 1 to 300", name, secs), Try: fmt.Sprintf("%s debug %s -seconds 10 -o %s.out", r.app.name, name, name)}
	}
	return nil
}
