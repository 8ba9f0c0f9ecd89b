package release

import (
	"context"
	"errors"
	"fmt"

	"github.com/relkit/relkit/internal/control"
)

const pidSummary = "print the OS PID of the running system"

// pidCmd prints the PID of the process answering on the control socket:
// the supervisor of a daemon, or the release started in the foreground.
func (r *runner[C]) pidCmd(ctx context.Context, args []string) error {
	fs := r.flags("pid", "", pidSummary)
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &UsageError{Problem: fmt.Sprintf("pid takes no arguments, got %q", fs.Arg(0)), Try: r.name + " pid"}
	}
	p, err := r.paths()
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
