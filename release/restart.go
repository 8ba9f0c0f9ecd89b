package release

import (
	"context"
	"errors"
	"fmt"

	"github.com/relkit/relkit/internal/control"
)

const restartSummary = "restart the app of a daemon without closing its socket: the new one is ready before the old one stops"

// restartCmd asks the supervisor for a new generation of the app.
func (r *runner[C]) restartCmd(ctx context.Context, args []string) error {
	fs := r.flags("restart", "", restartSummary)
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &UsageError{Problem: fmt.Sprintf("restart takes no arguments, got %q", fs.Arg(0)), Try: r.name + " restart"}
	}
	p, err := r.paths()
	if err != nil {
		return err
	}
	res, err := control.Call(ctx, p.socket, control.Request{Op: control.OpRestart}, control.Output{})
	if errors.Is(err, control.ErrNotRunning) {
		return r.notRunning(p)
	}
	if err != nil {
		return err
	}
	if res.Status != 0 {
		return &exitError{Code: res.Status, Err: res.Err()}
	}
	fmt.Fprintf(r.stdout, "%s restarted (app pid %d)\n", r.name, res.PID)
	return nil
}
