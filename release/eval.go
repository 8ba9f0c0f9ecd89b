package release

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"text/tabwriter"
)

const evalSummary = "run a task in a fresh process (never starts the server): eval TASK [ARGS]"

// evalCommand runs a task in a fresh process.
type evalCommand struct{}

func (c *evalCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("eval", "TASK [ARGS...]", evalSummary+"; with no TASK, list the tasks")
	if err := r.parse(fs, args[:min(len(args), 1)]); err != nil {
		return err
	}
	if len(args) == 0 {
		r.listTasks()
		return nil
	}
	name := args[0]
	task, ok := r.app.tasks[name]
	if !ok || task.run == nil {
		return &UsageError{Problem: fmt.Sprintf("unknown task %q", name), Try: r.app.name + " eval   (lists the tasks)"}
	}
	if !task.via.eval() {
		return &UsageError{Problem: fmt.Sprintf("task %s runs only inside the running system", name), Try: fmt.Sprintf("%s rpc %s %s", r.app.name, name, task.usage)}
	}
	cfg, _, log, err := r.setup()
	if err != nil {
		return err
	}
	if err := r.applyEnvFile(); err != nil {
		return err
	}
	log = log.With("task", name)
	call := &taskCall{args: args[1:], config: cfg, logger: log, stdin: r.stdin, stdout: r.stdout, stderr: r.stderr}
	if err := runRecovered(ctx, task, call, name, log); err != nil {
		if u, ok := err.(*UsageError); ok && u.Try == "" {
			u.Try = fmt.Sprintf("%s eval %s %s", r.app.name, name, task.usage)
		}
		return fmt.Errorf("task %s: %w", name, err)
	}
	return nil
}

func (r *runner) listTasks() {
	if len(r.app.tasks) == 0 {
		fmt.Fprintf(r.stdout, "%s has no tasks.\n", r.app.name)
		return
	}
	fmt.Fprintf(r.stdout, "Tasks (run with: %s eval TASK [ARGS]):\n", r.app.name)
	tw := tabwriter.NewWriter(r.stdout, 0, 0, 2, ' ', 0)
	for _, name := range slices.Sorted(maps.Keys(r.app.tasks)) {
		t := r.app.tasks[name]
		fmt.Fprintf(tw, "  %s %s\t%s%s\n", name, t.usage, t.summary, t.via.note())
	}
	tw.Flush()
}

// runRecovered runs t, turning a panic into an error (exit 1, "task
// NAME panicked: …", as rpc reports it) with the stack in the log at
// error level.
func runRecovered(ctx context.Context, t task, call *taskCall, name string, log *slog.Logger) (err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("task panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = &exitError{Code: ExitFailure, Err: fmt.Errorf("task %s panicked: %v", name, p)}
		}
	}()
	return t.run(ctx, call)
}
