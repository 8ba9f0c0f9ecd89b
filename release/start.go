package release

import (
	"context"
)

const startSummary = "run the release in the foreground; the HTTP server runs when enabled (SERVER)"

// startCommand runs the release in the foreground until ctx is cancelled
// (SIGINT or SIGTERM through Main). An assembled release runs under its
// supervisor, in this process, so that the PID systemd, Docker or a PID
// file know stays the same across restarts and upgrades; the supervisor
// runs the app as its child (start again, told so by
// RELKIT_CONTROL_SOCKET). A development build (go run, go build), or any
// build with RELEASE_SUPERVISE=false, runs the app in this process.
type startCommand struct{}

func (c *startCommand) run(ctx context.Context, r *runner, args []string) error {
	if err := r.noArgs(r.flags("start", "", startSummary), args, "start"); err != nil {
		return err
	}
	if _, generation := r.generation(); !generation {
		p, err := r.settings.Paths()
		if err != nil {
			return err
		}
		rs, err := r.settings.Release()
		if err != nil {
			return err
		}
		if rs.supervised(p.Assembled) {
			return r.runSupervisor(ctx, true)
		}
		if err := r.applyEnvFile(); err != nil {
			return err
		}
	}
	return r.boot(ctx)
}
