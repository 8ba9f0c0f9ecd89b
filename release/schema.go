package release

import (
	"context"
	"fmt"

	"github.com/relkit/relkit/internal/install"
)

// schemaReader reads the version of the database's schema: the version of
// the newest migration applied to it, install.NoMigrations when none.
type schemaReader interface {
	SchemaVersion(ctx context.Context) (int, error)
}

// schemaReader returns the reader of the app's database schema (package
// migrate, through the migratehook registry), nil when there is nothing to
// read: the app has no migrations or no DATABASE_URL. It fails when the
// configuration is invalid or no database driver is linked.
func (r *runner) schemaReader() (schemaReader, error) {
	if r.app.migrations == nil {
		return nil, nil
	}
	base, log, err := r.setupDatabase()
	if err != nil {
		return nil, err
	}
	if base.DatabaseURL == "" {
		return nil, nil
	}
	m, _, err := r.migrator(base, log)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// checkSchema refuses to switch from release running to release target
// when the database's schema is newer than target's newest migration,
// naming downgrade -rollback. Without a database reader (no DATABASE_URL)
// it refuses when running has migrations target lacks, since they may
// have been applied; it names -rollback there too, as reverting them
// first, with rollback, would leave the running release serving without
// them. A release without migrations on either side passes.
func checkSchema(ctx context.Context, name string, root *install.Root, running, target string, db schemaReader) error {
	targetTop, err := root.HighestMigration(target)
	if err != nil {
		return err
	}
	var runningVersions []int
	if running != "" {
		if m, err := root.Manifest(running); err == nil {
			runningVersions, _ = install.MigrationVersions(m)
		}
	}
	if db != nil {
		v, err := db.SchemaVersion(ctx)
		if err != nil {
			return fmt.Errorf("read the database's schema version, to check that release %s works with it: %w\nTry: %s downgrade %s -force   (skips the check)", target, err, name, target)
		}
		if v <= targetTop {
			return nil
		}
		return fmt.Errorf("the database's schema is at version %d, newer than release %s knows (its newest migration is %s); %s downgrade %s -rollback switches to %s, then reverts the newer migrations with the running release's down files",
			v, target, migrationName(targetTop), name, target, target)
	}
	runningTop := install.NoMigrations
	if n := len(runningVersions); n > 0 {
		runningTop = runningVersions[n-1]
	}
	if runningTop <= targetTop {
		return nil
	}
	return fmt.Errorf("release %s has migrations up to %d, release %s only up to %s, and this command cannot read the database's schema version (DATABASE_URL is not set for it); set DATABASE_URL and run %s downgrade %s -rollback, which switches first and then reverts the migrations after %s with release %s's down files, or, if none of them was applied, %s downgrade %s -force",
		running, runningTop, target, migrationName(targetTop), name, target, migrationName(targetTop), running, name, target)
}

func migrationName(v int) string {
	if v == install.NoMigrations {
		return "none"
	}
	return fmt.Sprint(v)
}
