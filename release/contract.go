package release

import (
	"context"
	"fmt"
	"slices"

	"github.com/relkit/relkit/internal/install"
)

// contractPlan is what downgrade -rollback reverts after switching to an
// older release: the migrations after keep, down to it, with the down
// files of the release that ran before.
type contractPlan struct {
	keep     int   // the target release's newest migration
	from     int   // the database's version before the switch
	versions []int // the migrations to revert, newest first
}

// planContract checks, before downgrade -rollback switches from running
// to target, that running (whose binary stays installed) has the down
// files of every migration the database holds beyond target's newest.
// A nil plan means there is nothing to revert.
func (r *runner) planContract(ctx context.Context, root *install.Root, running, target string) (*contractPlan, error) {
	keep, err := root.HighestMigration(target)
	if err != nil {
		return nil, err
	}
	db, err := r.schemaReader()
	if err != nil {
		return nil, err
	}
	if db == nil {
		return nil, fmt.Errorf("downgrade -rollback reverts the database's migrations, but DATABASE_URL is not set; set it, or run %s downgrade %s -force after rolling back by hand", r.app.name, target)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the database's schema version, to know what downgrade -rollback reverts: %w", err)
	}
	if v <= keep {
		return nil, nil
	}
	m, err := root.Manifest(running)
	if err != nil {
		return nil, fmt.Errorf("downgrade -rollback reverts with the down files of the running release %s, which is not installed: %w", running, err)
	}
	known, err := install.MigrationVersions(m)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(known, v) {
		return nil, fmt.Errorf("the database is at version %d, a migration the running release %s does not have, so its down files cannot revert it; run downgrade from the release that applied it", v, running)
	}
	p := &contractPlan{keep: keep, from: v}
	for i := len(known) - 1; i >= 0; i-- {
		if known[i] > keep && known[i] <= v {
			p.versions = append(p.versions, known[i])
		}
	}
	fmt.Fprintf(r.stdout, "The database is at version %d, newer than release %s knows (%s): after the switch, migrations %v are reverted with release %s's down files\n",
		v, target, migrationName(keep), p.versions, running)
	return p, nil
}

// contract reverts, one at a time and each printed, the migrations of plan
// with the binary of release previous, which still serves nothing: the
// switch to the older release happened, and that release works with
// either schema.
func (r *runner) contract(ctx context.Context, root *install.Root, plan *contractPlan, previous, target string) error {
	if plan == nil {
		return nil
	}
	for _, v := range plan.versions {
		fmt.Fprintf(r.stdout, "Reverting migration %d with release %s\n", v, previous)
		if err := r.runRelease(ctx, root, previous, "rollback", "-step", "1"); err != nil {
			return fmt.Errorf("release %s runs now, but reverting migration %d failed: %w\nTry: releases/%s/%s migrate status, then releases/%s/%s rollback -to %d",
				target, v, err, previous, root.Name(), previous, root.Name(), plan.versions[len(plan.versions)-1])
		}
	}
	fmt.Fprintf(r.stdout, "Rolled back database to version %s\n", migrationName(plan.keep))
	return nil
}
