package release

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/relkit/relkit/internal/environ"
	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/supervised"
)

// releaseBinary returns the binary of installed release vsn.
func releaseBinary(root *install.Root, vsn string) string {
	return filepath.Join(root.Dir(), "releases", vsn, root.Name())
}

// runRelease runs installed release vsn's binary with args, in the
// environment that release's processes get (its environment file beneath
// this process's environment), its output going to this command's.
func (r *runner) runRelease(ctx context.Context, root *install.Root, vsn string, args ...string) error {
	bin := releaseBinary(root, vsn)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = root.Dir()
	cmd.Env = environ.List(environ.ForRelease(r.env.ForChild(), bin, root.Dir()))
	cmd.Stdout, cmd.Stderr = r.stdout, r.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("releases/%s/%s %v: %w", vsn, root.Name(), args, err)
	}
	return nil
}

// expand is upgrade's first step: when release vsn has migrations the
// database lacks, it applies them with vsn's binary while the running
// release serves (so the running release must work with the new schema:
// expand now, contract in a later release). Without migrations or without
// DATABASE_URL it does nothing.
func (r *runner) expand(ctx context.Context, root *install.Root, vsn string) error {
	top, err := root.HighestMigration(vsn)
	if err != nil || top == install.NoMigrations {
		return err
	}
	db, err := r.schemaReader()
	if err != nil || db == nil {
		return err
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("read the database's schema version, to migrate it for release %s: %w\nTry: %s upgrade %s -no-migrate   (after migrating by hand)", vsn, err, r.app.name, vsn)
	}
	if v >= top {
		return nil
	}
	fmt.Fprintf(r.stdout, "Migrating database from version %s to %d with release %s\n", migrationName(v), top, vsn)
	if err := r.runRelease(ctx, root, vsn, "migrate"); err != nil {
		return fmt.Errorf("migrating the database for release %s failed, so nothing was switched: %w\nTry: releases/%s/%s migrate status", vsn, err, vsn, root.Name())
	}
	fmt.Fprintf(r.stdout, "Migrated database to version %d\n", top)
	return nil
}

// newerSchemaRelease names the installed release, other than this one,
// whose migrations reach the database's version v, when this process was
// started by a supervisor: a release the supervisor starts again after a
// failed upgrade, or switches to for downgrade -rollback, boots on the
// schema an installed newer release created. It returns "" otherwise.
func (r *runner) newerSchemaRelease(v int) string {
	if _, ok := supervised.FromEnv(r.env.Map()); !ok {
		return ""
	}
	p, err := r.settings.Paths()
	if err != nil || !p.Assembled {
		return ""
	}
	root, err := install.Open(p.Root, r.app.name)
	if err != nil {
		return ""
	}
	list, err := root.List("")
	if err != nil {
		return ""
	}
	for _, in := range list {
		if in.Version == r.app.version || in.Manifest == nil {
			continue
		}
		if top, err := install.HighestMigration(in.Manifest); err == nil && top >= v {
			return in.Version
		}
	}
	return ""
}
