package release

import (
	"context"
	"errors"
	"fmt"

	"github.com/relkit/relkit/internal/control"
)

const pidSummary = "print the OS PID of the running system"

// pidCommand prints the PID of the process answering on the control
// socket: the supervisor of a daemon, or the release started in the
// foreground.
type pidCommand struct{}

func (c *pidCommand) run(ctx context.Context, r *runner, args []string) error {
	if err := r.noArgs(r.flags("pid", "", pidSummary), args, "pid"); err != nil {
		return err
	}
	p, err := r.settings.Paths()
	if err != nil {
		return err
	}
	info, err := control.Ping(ctx, p.socket)
	if errors.Is(err, control.ErrNotRunning) {
		return r.notRunning(p)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(r.stdout, info.PID)
	return nil
}
