package release

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/install"
)

const pruneSummary = "remove the releases beyond the newest N (RELEASE_KEEP, default 5), never the running, permanent or previous one"

// pruneCommand is `releases prune`: it removes old releases' directories
// and RELEASES lines (see install.Root.Prune).
type pruneCommand struct{}

func (c *pruneCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("releases prune", "[-keep N] [-json]", pruneSummary+`

The newest N releases in releases/RELEASES (the order they were installed)
stay; of the older ones every directory releases/VSN/ (with the tarball,
checksum and env file in it) and its RELEASES line are removed, except the
release that runs, the permanent one (what bin/NAME starts), a current one
the previous one (the one before the permanent one in RELEASES, where
downgrade without a version goes) and the one the last switch came from
(releases/HISTORY: the supervisor switches back to it when the new release
crashes during probation, and after a downgrade it is listed after the
permanent one). A directory RELEASES does not list, such
as a tarball waiting to be unpacked, is left alone. Running it again with
nothing to remove exits 0 and removes nothing.

Every successful upgrade, downgrade and switch prunes the same way with
RELEASE_KEEP (0 turns that off).`)
	keep := fs.Int("keep", 0, "how many of the newest releases to keep besides the running, permanent and previous ones; default: RELEASE_KEEP")
	asJSON := fs.Bool("json", false, `print {"removed":[...],"kept":[...]} on stdout, one line (with "error" when it fails)`)
	if err := r.noArgs(fs, args, "releases prune -keep 5"); err != nil {
		return err
	}
	keepSet := false
	fs.Visit(func(f *flag.Flag) { keepSet = keepSet || f.Name == "keep" })
	n := *keep
	switch {
	case keepSet && n < 0:
		return &UsageError{Problem: fmt.Sprintf("-keep must be 0 or more, got %d", n), Try: r.app.name + " releases prune -keep 5"}
	case !keepSet:
		rc, err := r.settings.Release()
		if err != nil {
			return err
		}
		if rc.Keep == 0 {
			return &UsageError{Problem: "RELEASE_KEEP=0 turns pruning off, and -keep is not given", Try: r.app.name + " releases prune -keep 5"}
		}
		n = rc.Keep
	}
	res, err := c.prune(ctx, r, n)
	if *asJSON {
		// A script reads stdout on failure too: what was removed before
		// the failure (a directory that could not be deleted after its
		// RELEASES line went), and the error.
		out := pruneJSON{Removed: []string{}, Kept: []string{}}
		if res != nil {
			out.Removed, out.Kept = append(out.Removed, res.Removed...), append(out.Kept, res.Kept...)
		}
		if err != nil {
			out.Error = err.Error()
		}
		if jerr := json.NewEncoder(r.stdout).Encode(out); jerr != nil && err == nil {
			return jerr
		}
		return err
	}
	if err != nil {
		return err
	}
	if len(res.Removed) == 0 {
		fmt.Fprintf(r.stdout, "Nothing to prune: %d release(s) installed, keeping the newest %d and the running, permanent and previous ones\n", len(res.Kept), n)
		return nil
	}
	for _, v := range res.Removed {
		fmt.Fprintf(r.stdout, "Removed release %s\n", v)
	}
	fmt.Fprintf(r.stdout, "Kept %s\n", strings.Join(res.Kept, ", "))
	return nil
}

// pruneJSON is what releases prune -json prints.
type pruneJSON struct {
	Removed []string `json:"removed"`
	Kept    []string `json:"kept"`
	// Error is what failed (the message on stderr); omitted on success.
	Error string `json:"error,omitempty"`
}

// prune prunes the releases beyond the newest keep, keeping the running
// one, the one the last switch came from and the one of this binary.
func (c *pruneCommand) prune(ctx context.Context, r *runner, keep int) (*install.PruneResult, error) {
	root, _, err := r.openRoot("releases prune")
	if err != nil {
		return nil, err
	}
	running, err := r.runningVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w (prune must know it, so as not to remove it)", err)
	}
	protect := []string{running, r.app.version}
	if from := lastSwitchedFrom(root.Dir()); from != "" {
		protect = append(protect, from)
	}
	return root.Prune(install.PruneOptions{Keep: keep, Protect: protect})
}

// openRoot opens the root of the assembled release this binary belongs
// to, for command cmd.
func (r *runner) openRoot(cmd string) (*install.Root, runtimePaths, error) {
	p, err := r.settings.Paths()
	if err != nil {
		return nil, p, err
	}
	if !p.Assembled {
		return nil, p, fmt.Errorf("%s works on an assembled release (relkit build), whose binaries live in ROOT/releases/VSN/; this binary runs from %s", cmd, p.Root)
	}
	root, err := install.Open(p.Root, r.app.name)
	return root, p, err
}

// runningVersion asks the control socket which release runs: "" when
// nothing runs.
func (r *runner) runningVersion(ctx context.Context) (string, error) {
	p, err := r.settings.Paths()
	if err != nil {
		return "", err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := control.Ping(pctx, p.socket)
	switch {
	case errors.Is(err, control.ErrNotRunning):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("ask the running system which release it runs: %w", err)
	}
	return info.Version, nil
}

// autoPrune runs after a successful switch: it prunes with RELEASE_KEEP
// (0: not at all), keeping protect (the release switched to and the one
// switched from, which probation may switch back to). A failure is a
// warning: the switch happened.
func (r *runner) autoPrune(root *install.Root, protect ...string) {
	rc, err := r.settings.Release()
	if err != nil || rc.Keep == 0 {
		return
	}
	res, err := root.Prune(install.PruneOptions{Keep: rc.Keep, Protect: append(protect, r.app.version)})
	if err != nil {
		fmt.Fprintf(r.stderr, "Warning: pruning old releases (RELEASE_KEEP=%d) failed: %v\nTry: %s releases prune\n", rc.Keep, err, r.app.name)
		return
	}
	if len(res.Removed) > 0 {
		fmt.Fprintf(r.stdout, "Removed old release(s) %s (RELEASE_KEEP=%d)\n", strings.Join(res.Removed, ", "), rc.Keep)
	}
}

// lastSwitchedFrom returns the release the last successful switch in
// ROOT/releases/HISTORY came from ("" when none is recorded): the one the
// supervisor switches back to if the release switched to crashes during
// probation, so prune must keep it.
func lastSwitchedFrom(root string) string {
	f, err := os.Open(filepath.Join(root, "releases", historyFile))
	if err != nil {
		return ""
	}
	defer f.Close()
	var from string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// TIME USER FROM TO RESULT TOOK; RESULT is "OP ok" when committed.
		if fields := strings.Split(sc.Text(), "\t"); len(fields) == 6 && strings.HasSuffix(fields[4], " ok") {
			from = fields[2]
		}
	}
	return from
}
