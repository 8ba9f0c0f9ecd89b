package release

import (
	"context"
	"errors"
	"fmt"

	"github.com/relkit/relkit/internal/control"
)

const restartSummary = "restart the app of a daemon without closing its socket: the new one is ready before the old one stops"

// restartCommand asks the supervisor for a new generation of the app.
type restartCommand struct{}

func (c *restartCommand) run(ctx context.Context, r *runner, args []string) error {
	if err := r.noArgs(r.flags("restart", "", restartSummary), args, "restart"); err != nil {
		return err
	}
	p, err := r.settings.Paths()
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
	fmt.Fprintf(r.stdout, "%s restarted (app pid %d)\n", r.app.name, res.PID)
	return nil
}
