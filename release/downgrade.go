package release

import (
	"context"

	"github.com/relkit/relkit/internal/install"
)

const downgradeSummary = "switch the running system back to an installed older release VSN, as upgrade does"

// downgradeCommand switches the running system to an installed release,
// after checking that the database's schema is not newer than that release
// knows (see switchRelease and checkSchema).
type downgradeCommand struct {
	force    bool
	rollback bool
}

func (c *downgradeCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("downgrade", "VSN [-force]", downgradeSummary+`

VSN must be installed (releases lists what is). The switch is upgrade's:
the old release serves until VSN is ready, and keeps serving if it fails.
When the database's schema is newer than VSN's newest migration, downgrade
refuses, naming -rollback. With -rollback it does both in the safe order:
it switches to VSN (allowed to boot on the newer schema, as VSN must work
with it), then reverts the migrations VSN lacks with the previous release's
binary and down files, one at a time, each printed.`)
	fs.BoolVar(&c.force, "force", false, "switch without checking the database's schema version (after rolling back by hand, or for a release that works with the newer schema)")
	fs.BoolVar(&c.rollback, "rollback", false, "when the database is newer than VSN knows: switch to VSN, then revert the migrations VSN lacks with the running release's down files")
	vsn, err := r.parseVersion(fs, args, "downgrade 1.0.0")
	if err != nil {
		return err
	}
	req := switchRequest{cmd: "downgrade", version: vsn, force: c.force}
	if c.rollback {
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
	return r.switchRelease(ctx, req)
}
