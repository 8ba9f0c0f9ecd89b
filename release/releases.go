package release

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/install"
)

const releasesSummary = "list the installed releases, their state (unpacked, current, permanent, old) and which one runs"

// releasesCommand lists the releases installed under the root, asking the
// running system which one it runs.
type releasesCommand struct{}

func (c *releasesCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("releases", "[-history]", releasesSummary)
	history := fs.Bool("history", false, "print releases/HISTORY, the switches the supervisor committed or that failed (time, user, from, to, result, duration)")
	if err := r.noArgs(fs, args, "releases"); err != nil {
		return err
	}
	p, err := r.settings.Paths()
	if err != nil {
		return err
	}
	if !p.Assembled {
		return fmt.Errorf("releases lists the releases of an assembled release (relkit build); this binary runs from %s", p.Root)
	}
	root, err := install.Open(p.Root, r.app.name)
	if err != nil {
		return err
	}
	if *history {
		return printHistory(r.stdout, p.Root)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	info, perr := control.Ping(pctx, p.socket)
	cancel()
	running := ""
	if perr == nil {
		running = info.Version
	} else if !errors.Is(perr, control.ErrNotRunning) {
		return perr
	}
	list, err := root.List(running)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(r.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tRUNNING\tBUILT")
	listed := false
	for _, in := range list {
		run, built := "", "-"
		if in.Running {
			run, listed = "yes", true
		}
		if in.Manifest != nil {
			built = in.Manifest.BuildTime.UTC().Format("2006-01-02 15:04:05Z")
		} else if in.Err != nil {
			built = "(missing: " + in.Err.Error() + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", in.Version, in.State, run, built)
	}
	tw.Flush()
	switch {
	case perr != nil:
		fmt.Fprintf(r.stdout, "%s is not running.\n", r.app.name)
	case !listed:
		fmt.Fprintf(r.stdout, "%s %s runs (pid %d), a release not installed in %s.\n", r.app.name, info.Version, info.PID, p.Root)
	default:
		fmt.Fprintf(r.stdout, "%s %s runs (pid %d).\n", r.app.name, info.Version, info.PID)
	}
	return nil
}
