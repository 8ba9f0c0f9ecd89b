package release

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/relkit/relkit/internal/control"
)

const rpcSummary = "run a task inside the running system, streaming its output: rpc TASK [ARGS]"

// rpcCommand sends a task to the running system and relays its output and
// exit status.
type rpcCommand struct{}

func (c *rpcCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("rpc", "TASK [ARGS...]", rpcSummary+"; with no TASK, list the tasks")
	if err := r.parse(fs, args[:min(len(args), 1)]); err != nil {
		return err
	}
	if len(args) == 0 {
		r.listRPCTasks()
		return nil
	}
	if t, ok := r.app.tasks[args[0]]; ok && !t.via.rpc() {
		return &UsageError{Problem: fmt.Sprintf("task %s runs only in a fresh process, not inside the running system", args[0]), Try: fmt.Sprintf("%s eval %s %s", r.app.name, args[0], t.usage)}
	}
	p, err := r.settings.Paths()
	if err != nil {
		return err
	}
	res, err := control.Call(ctx, p.socket, control.Request{Op: control.OpRPC, Args: args}, control.Output{Stdout: r.stdout, Stderr: r.stderr})
	if errors.Is(err, control.ErrNotRunning) {
		return r.notRunning(p)
	}
	if err != nil {
		return err
	}
	if res.Status != 0 {
		return &exitError{Code: res.Status, Err: res.Err()}
	}
	return nil
}

func (r *runner) listRPCTasks() {
	tw := tabwriter.NewWriter(r.stdout, 0, 0, 2, ' ', 0)
	n := 0
	for _, name := range slices.Sorted(maps.Keys(r.app.tasks)) {
		if t := r.app.tasks[name]; t.via.rpc() {
			if n == 0 {
				fmt.Fprintf(r.stdout, "Tasks (run inside the running system with: %s rpc TASK [ARGS]):\n", r.app.name)
			}
			fmt.Fprintf(tw, "  %s %s\t%s\n", name, t.usage, t.summary)
			n++
		}
	}
	tw.Flush()
	if n == 0 {
		fmt.Fprintf(r.stdout, "%s has no tasks that run with rpc (a task opts in with Via: release.ViaRPC or release.ViaEvalOrRPC).\n", r.app.name)
	}
}

// runTask runs an rpc task inside this process, its output streamed to the
// caller.
func (r *runner) runTask(ctx context.Context, args []string, st *control.Stream, cfg any, log *slog.Logger) (res control.Result) {
	if len(args) == 0 {
		return control.Fail(ExitUsage, "rpc needs a task\nTry: %s rpc   (lists the tasks)", r.app.name)
	}
	name := args[0]
	task, ok := r.app.tasks[name]
	switch {
	case !ok || task.run == nil:
		return control.Fail(ExitUsage, "unknown task %q\nTry: %s rpc   (lists the tasks)", name, r.app.name)
	case !task.via.rpc():
		return control.Fail(ExitUsage, "task %s runs only in a fresh process, not inside the running system\nTry: %s eval %s %s", name, r.app.name, name, task.usage)
	}
	defer func() {
		if p := recover(); p != nil {
			log.Error("rpc task panicked", "task", name, "panic", p, "stack", string(debug.Stack()))
			res = control.Fail(ExitFailure, "task %s panicked: %v", name, p)
		}
	}()
	tlog := log.With("task", name, "via", "rpc")
	tlog.Info("rpc task started", "caller_pid", st.Peer().PID)
	call := &taskCall{args: args[1:], config: cfg, logger: tlog, stdin: strings.NewReader(""), stdout: st.Stdout(), stderr: st.Stderr()}
	err := task.run(ctx, call)
	u := usageOf(err)
	switch {
	case err == nil:
		tlog.Info("rpc task done")
		return control.Result{}
	case u != nil:
		try := u.Try
		if try == "" {
			try = strings.TrimSpace(fmt.Sprintf("%s rpc %s %s", r.app.name, name, task.usage))
		}
		return control.Fail(ExitUsage, "%s\nTry: %s", u.Problem, try)
	default:
		tlog.Error("rpc task failed", "err", err)
		return control.Fail(ExitFailure, "task %s: %v", name, err)
	}
}
