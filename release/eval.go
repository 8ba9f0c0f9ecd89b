package release

import (
	"context"
	"fmt"
	"text/tabwriter"
)

const evalSummary = "run a task in a fresh process (never starts the server): eval TASK [ARGS]"

func (r *runner[C]) eval(ctx context.Context, args []string) error {
	fs := r.flags("eval", "TASK [ARGS...]", evalSummary+"; with no TASK, list the tasks")
	if err := r.parse(fs, args[:min(len(args), 1)]); err != nil {
		return err
	}
	if len(args) == 0 {
		r.listTasks()
		return nil
	}
	name := args[0]
	task, ok := r.app.Tasks[name]
	if !ok || task.Run == nil {
		return &UsageError{Problem: fmt.Sprintf("unknown task %q", name), Try: r.name + " eval   (lists the tasks)"}
	}
	if !task.Via.eval() {
		return &UsageError{Problem: fmt.Sprintf("task %s runs only inside the running system", name), Try: fmt.Sprintf("%s rpc %s %s", r.name, name, task.Usage)}
	}
	cfg, _, log, err := r.setup()
	if err != nil {
		return err
	}
	log = log.With("task", name)
	call := &Call[C]{Args: args[1:], Config: cfg, Logger: log, Stdin: r.stdin, Stdout: r.stdout, Stderr: r.stderr}
	if err := task.Run(ctx, call); err != nil {
		if u, ok := err.(*UsageError); ok && u.Try == "" {
			u.Try = fmt.Sprintf("%s eval %s %s", r.name, name, task.Usage)
		}
		return fmt.Errorf("task %s: %w", name, err)
	}
	return nil
}

func (r *runner[C]) listTasks() {
	if len(r.app.Tasks) == 0 {
		fmt.Fprintf(r.stdout, "%s has no tasks.\n", r.name)
		return
	}
	fmt.Fprintf(r.stdout, "Tasks (run with: %s eval TASK [ARGS]):\n", r.name)
	tw := tabwriter.NewWriter(r.stdout, 0, 0, 2, ' ', 0)
	for _, name := range sortedKeys(r.app.Tasks) {
		t := r.app.Tasks[name]
		fmt.Fprintf(tw, "  %s %s\t%s%s\n", name, t.Usage, t.Summary, t.Via.note())
	}
	tw.Flush()
}
