package release

import "context"

const downgradeSummary = "switch the running system back to an installed older release VSN, as upgrade does"

// downgradeCommand switches the running system to an installed release,
// after checking that the database's schema is not newer than that release
// knows (see switchRelease and checkSchema).
type downgradeCommand struct {
	force bool
}

func (c *downgradeCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("downgrade", "VSN [-force]", downgradeSummary+`

VSN must be installed (releases lists what is). The switch is upgrade's:
the old release serves until VSN is ready, and keeps serving if it fails.
When the database's schema is newer than VSN's newest migration, downgrade
refuses and prints the rollback command to run first, with the running
release, which has the down files.`)
	fs.BoolVar(&c.force, "force", false, "switch without checking the database's schema version (after rolling back by hand, or for a release that works with the newer schema)")
	vsn, err := r.parseVersion(fs, args, "downgrade 1.0.0")
	if err != nil {
		return err
	}
	return r.switchRelease(ctx, switchRequest{cmd: "downgrade", version: vsn, force: c.force})
}
