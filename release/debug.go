package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/relkit/relkit/internal/control"
)

const debugSummary = "look inside the running app over the control socket: debug stack | heap -o FILE | cpu [-seconds N] -o FILE"

// maxDebugOutput bounds what one debug request writes to the caller's
// file or terminal.
const maxDebugOutput = 512 << 20

// debugCommand dispatches to its subcommands, one file each.
type debugCommand struct{}

func (c *debugCommand) run(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 {
		return &UsageError{Problem: "debug needs a subcommand: stack, heap or cpu", Try: r.app.name + " debug stack"}
	}
	switch args[0] {
	case "stack":
		return debugStack(ctx, r, args[1:])
	case "heap":
		return debugHeap(ctx, r, args[1:])
	case "cpu":
		return debugCPU(ctx, r, args[1:])
	}
	return &UsageError{Problem: fmt.Sprintf("debug: unknown subcommand %q (stack, heap, cpu)", args[0]), Try: r.app.name + " debug stack"}
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

// serveDebug answers a debug request inside the app process.
func serveDebug(ctx context.Context, args []string, st *control.Stream) control.Result {
	if len(args) == 0 {
		return control.Fail(ExitUsage, "debug needs a subcommand")
	}
	w := st.Stdout()
	switch args[0] {
	case "stack":
		pprof.Lookup("goroutine").WriteTo(w, 2)
	case "heap":
		if err := pprof.Lookup("heap").WriteTo(w, 0); err != nil {
			return control.Fail(ExitFailure, "debug heap: %v", err)
		}
	case "cpu":
		secs := 30
		if len(args) > 1 {
			n, err := strconv.Atoi(args[1])
			if err != nil || n < 1 || n > 300 {
				return control.Fail(ExitUsage, "debug cpu: -seconds must be 1 to 300")
			}
			secs = n
		}
		if err := pprof.StartCPUProfile(w); err != nil {
			return control.Fail(ExitFailure, "debug cpu: %v (is another CPU profile running?)", err)
		}
		select {
		case <-time.After(time.Duration(secs) * time.Second):
		case <-ctx.Done():
		}
		pprof.StopCPUProfile()
	default:
		return control.Fail(ExitUsage, "debug: unknown subcommand %q", args[0])
	}
	return control.Result{}
}
