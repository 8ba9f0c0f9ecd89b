package release

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/pidfile"
)

const stopSummary = "stop the running system gracefully (as SIGTERM does); kill it after a timeout"

// stopCommand asks the running system to stop over the control socket and
// waits until it has. The process it kills after the timeout is the one
// the kernel says answered on the socket, never a PID read from a file.
type stopCommand struct {
	timeout time.Duration
}

func (c *stopCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("stop", "[-timeout DURATION]", stopSummary)
	fs.DurationVar(&c.timeout, "timeout", 0, "how long to wait before killing it (default: RELEASE_STOP_TIMEOUT plus 5s)")
	if err := r.noArgs(fs, args, "stop"); err != nil {
		return err
	}
	dcfg, err := r.settings.Release()
	if err != nil {
		return err
	}
	timeout := &c.timeout
	if *timeout <= 0 {
		*timeout = dcfg.stopTimeout() + 5*time.Second
	}
	p, err := r.settings.Paths()
	if err != nil {
		return err
	}
	conn, err := control.Dial(ctx, p.socket)
	if errors.Is(err, control.ErrNotRunning) {
		return r.notRunning(p)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	pid := conn.Peer().PID
	// Found through the live connection, so it is the process that
	// answers (on Linux a pidfd: a kill cannot reach a reused PID).
	proc, _ := os.FindProcess(pid)
	fmt.Fprintf(r.stderr, "stopping %s (pid %d)…\n", r.app.name, pid)
	sctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := conn.Do(sctx, control.Request{Op: control.OpStop}, control.Output{})
	switch {
	case err == nil && res.Status != 0:
		return &exitError{Code: res.Status, Err: res.Err()}
	case err == nil, errors.Is(err, control.ErrClosed):
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		conn.WaitClosed(wctx)
		wcancel()
		fmt.Fprintf(r.stdout, "%s stopped\n", r.app.name)
		return nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		if proc != nil {
			proc.Signal(syscall.SIGKILL)
		}
		return fmt.Errorf("%s (pid %d) did not stop within %v; killed it (in-flight work was cut off; raise SHUTDOWN_TIMEOUT or RELEASE_STOP_TIMEOUT if it needs longer)", r.app.name, pid, *timeout)
	default:
		return err
	}
}

// notRunning is the error for a command that needs a running system.
func (r *runner) notRunning(p runtimePaths) error {
	msg := fmt.Sprintf("%s is not running: nothing answers on %s", r.app.name, p.socket)
	if pid, err := pidfile.Read(p.pidFile); err == nil {
		msg += fmt.Sprintf(" (the PID file %s names pid %d, which does not answer there: the file is stale, and that process was not touched)", p.pidFile, pid)
	}
	return errors.New(msg)
}
