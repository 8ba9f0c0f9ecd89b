package release

import (
	"context"
	"fmt"
	"strings"

	"github.com/relkit/relkit/internal/install"
)

const downgradeSummary = "switch the running system back to an installed older release VSN (default: the previous one), as upgrade does"

// downgradeCommand switches the running system to an installed release,
// after checking that the database's schema is not newer than that release
// knows (see switchRelease and checkSchema).
type downgradeCommand struct {
	force    bool
	rollback bool
}

func (c *downgradeCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("downgrade", "[VSN] [-rollback] [-force]", downgradeSummary+`

VSN must be installed (releases lists what is). Without VSN, downgrade goes
to the previous release: the one listed before the permanent one in
releases/RELEASES. The switch is upgrade's:
the old release serves until VSN is ready, and keeps serving if it fails.
When the database's schema is newer than VSN's newest migration, downgrade
refuses, naming -rollback. With -rollback it does both in the safe order:
it switches to VSN (allowed to boot on the newer schema, as VSN must work
with it), then reverts the migrations VSN lacks with the previous release's
binary and down files, one at a time, each printed.`)
	fs.BoolVar(&c.force, "force", false, "switch without checking the database's schema version (after rolling back by hand, or for a release that works with the newer schema)")
	fs.BoolVar(&c.rollback, "rollback", false, "when the database is newer than VSN knows: switch to VSN, then revert the migrations VSN lacks with the running release's down files")
	var vsn string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		vsn, args = args[0], args[1:]
	}
	if err := r.parse(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if vsn == "" && len(rest) > 0 {
		vsn, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return &UsageError{Problem: fmt.Sprintf("downgrade takes at most one version, got also %q", rest[0]), Try: r.app.name + " downgrade 1.0.0"}
	}
	if vsn == "" {
		prev, err := r.previousRelease()
		if err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "Downgrading to the previous release, %s\n", prev)
		vsn = prev
	}
	return r.switchRelease(ctx, r.downgradeRequest("downgrade", vsn, c.force, c.rollback))
}

// previousRelease is the release downgrade without a version goes to: the
// one before the permanent one in RELEASES.
func (r *runner) previousRelease() (string, error) {
	root, _, err := r.openRoot("downgrade")
	if err != nil {
		return "", err
	}
	rs, err := root.Releases()
	if err != nil {
		return "", err
	}
	if prev := rs.Previous(); prev != "" {
		return prev, nil
	}
	perm := rs.Permanent()
	if perm == "" {
		perm = "none"
	}
	return "", fmt.Errorf("downgrade without a version goes to the release listed before the permanent one (%s) in %s, and there is none: name the release to go to\nTry: %s downgrade VSN   (%s releases lists them)",
		perm, root.StateFilePath(), r.app.name, r.app.name)
}

// downgradeRequest is the switch downgrade asks for (switch VSN too, when
// VSN is older): check the schema unless force; with rollback, switch
// first and then revert the migrations VSN lacks.
func (r *runner) downgradeRequest(cmd, vsn string, force, rollback bool) switchRequest {
	req := switchRequest{cmd: cmd, version: vsn, force: force}
	if rollback {
		var plan *contractPlan
		req.force = true // planContract checks instead
		req.before = func(ctx context.Context, root *install.Root, running string) (err error) {
			plan, err = r.planContract(ctx, root, running, vsn)
			return err
		}
		req.after = func(ctx context.Context, root *install.Root, previous string) error {
			return r.contract(ctx, root, plan, previous, vsn)
		}
	}
	return req
}
