package release

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/relkit/relkit/internal/control"
)

const rpcSummary = "run a task inside the running system, streaming its output: rpc TASK [ARGS]"

// rpc sends a task to the running system and relays its output and exit
// status.
func (r *runner[C]) rpc(ctx context.Context, args []string) error {
	fs := r.flags("rpc", "TASK [ARGS...]", rpcSummary+"; with no TASK, list the tasks")
	if err := r.parse(fs, args[:min(len(args), 1)]); err != nil {
		return err
	}
	if len(args) == 0 {
		r.listRPCTasks()
		return nil
	}
	if t, ok := r.app.Tasks[args[0]]; ok && !t.Via.rpc() {
		return &UsageError{Problem: fmt.Sprintf("task %s runs only in a fresh process, not inside the running system", args[0]), Try: fmt.Sprintf("%s eval %s %s", r.name, args[0], t.Usage)}
	}
	p, err := r.paths()
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

func (r *runner[C]) listRPCTasks() {
	tw := tabwriter.NewWriter(r.stdout, 0, 0, 2, ' ', 0)
	n := 0
	for _, name := range sortedKeys(r.app.Tasks) {
		if t := r.app.Tasks[name]; t.Via.rpc() {
			if n == 0 {
				fmt.Fprintf(r.stdout, "Tasks (run inside the running system with: %s rpc TASK [ARGS]):\n", r.name)
			}
			fmt.Fprintf(tw, "  %s %s\t%s\n", name, t.Usage, t.Summary)
			n++
		}
	}
	tw.Flush()
	if n == 0 {
		fmt.Fprintf(r.stdout, "%s has no tasks that run with rpc (a task opts in with Via: release.ViaRPC or release.ViaEvalOrRPC).\n", r.name)
	}
}
