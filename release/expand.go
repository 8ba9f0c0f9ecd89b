package release

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/control"
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

// expansion is what upgrade's migrations did to the database: from is its
// schema version before them, to the version they go to. started is set
// once they began, so that a switch failing after it keeps the unpacked
// release: its down files are the way back (see keepMigrated).
type expansion struct {
	from, to int
	started  bool
}

// keepMigrated explains a failed switch after release vsn's migrations
// (e) began: vsn stays unpacked, because its down files are what reverts
// them, and the release that runs keeps serving on the newer schema, which
// the expand rule says it works with.
func keepMigrated(cause error, root *install.Root, vsn, running string, e *expansion) error {
	revert := fmt.Sprintf("releases/%s/%s migrate status   (then rollback -to VERSION -yes with that binary)", vsn, root.Name())
	if m, err := root.Manifest(vsn); err == nil {
		if versions, err := install.MigrationVersions(m); err == nil {
			for _, v := range versions {
				if v > e.from {
					revert = fmt.Sprintf("releases/%s/%s rollback -to %d -yes", vsn, root.Name(), v)
					break
				}
			}
		}
	}
	return fmt.Errorf("%w\nKept release %s unpacked: its migrations ran (the database went from version %s towards %d), and its down files are the way back. Release %s serves on that schema. To try again: %s upgrade %s; to revert the schema: %s",
		cause, vsn, migrationName(e.from), e.to, running, root.Name(), vsn, revert)
}

// expand is upgrade's first step: when release vsn has migrations the
// database lacks, it applies them with vsn's binary while the running
// release serves (so the running release must work with the new schema:
// expand now, contract in a later release), after recording that in
// releases/SCHEMA. Without migrations or without DATABASE_URL it does
// nothing.
func (r *runner) expand(ctx context.Context, root *install.Root, vsn string, e *expansion) error {
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
	// Recorded before migrating: whether or not the switch then happens,
	// the running release may be restarted on the schema it now serves on.
	running, err := r.runningVersion(ctx)
	if err == nil && running == "" {
		err = control.ErrNotRunning
	}
	if err != nil {
		return fmt.Errorf("ask the running system which release it runs, before migrating for release %s: %w", vsn, err)
	}
	if err := recordExpand(root, running, top, vsn); err != nil {
		return fmt.Errorf("record in releases/%s that release %s serves on the schema release %s migrates to, before migrating: %w", schemaFile, running, vsn, err)
	}
	fmt.Fprintf(r.stdout, "Migrating database from version %s to %d with release %s\n", migrationName(v), top, vsn)
	e.from, e.to, e.started = v, top, true
	if err := r.runRelease(ctx, root, vsn, "migrate"); err != nil {
		return fmt.Errorf("migrating the database for release %s failed, so nothing was switched: %w\nTry: releases/%s/%s migrate status", vsn, err, vsn, root.Name())
	}
	fmt.Fprintf(r.stdout, "Migrated database to version %d\n", top)
	return nil
}

// schemaFile is ROOT/releases/SCHEMA, the append-only record of the
// upgrades that migrated the database while a release served: one
// tab-separated line each, with the time (RFC 3339), the release that
// served, the version the migrations went to and the release they came
// with. The release that served works with that schema (the upgrade's
// expand rule), so it may boot on it again, even when the upgrade failed
// and its release was removed.
const schemaFile = "SCHEMA"

// recordExpand appends to releases/SCHEMA that release served while
// release with's migrations took the database to version.
func recordExpand(root *install.Root, served string, version int, with string) error {
	line := strings.Join([]string{time.Now().UTC().Format(time.RFC3339), served, strconv.Itoa(version), with}, "\t") + "\n"
	f, err := os.OpenFile(filepath.Join(root.Dir(), "releases", schemaFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// expandedFor returns the release whose upgrade, by releases/SCHEMA,
// migrated the database to version v or beyond while release served, ""
// when there is none.
func expandedFor(rootDir, served string, v int) string {
	b, err := os.ReadFile(filepath.Join(rootDir, "releases", schemaFile))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[1] != served {
			continue
		}
		if n, err := strconv.Atoi(f[2]); err == nil && n >= v {
			return f[3]
		}
	}
	return ""
}

// newerSchemaRelease names the release that migrated the database to
// version v and under which this one may boot on it, when this process
// was started by a supervisor: an installed release, other than this one,
// whose migrations reach v (the supervisor starts this release again
// after a failed upgrade, or switches to it for downgrade -rollback), or
// one whose upgrade migrated the database to v while this release served
// (releases/SCHEMA; that release may be gone, removed by its failed
// upgrade). It returns "" otherwise.
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
	list, _ := root.List("")
	for _, in := range list {
		if in.Version == r.app.version || in.Manifest == nil {
			continue
		}
		if top, err := install.HighestMigration(in.Manifest); err == nil && top >= v {
			return "installed release " + in.Version
		}
	}
	if with := expandedFor(root.Dir(), r.app.version, v); with != "" {
		return "release " + with + ", whose upgrade migrated it while this release served (releases/" + schemaFile + ")"
	}
	return ""
}
