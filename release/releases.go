package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/migratehook"
)

const releasesSummary = "list the installed releases, their state (unpacked, current, permanent, old), newest migration and which one runs; releases prune removes old ones"

// releasesCommand lists the releases installed under the root, asking the
// running system which one it runs and, when DATABASE_URL is set, the
// database which schema version it is at.
type releasesCommand struct{}

// releasesJSON is what releases -json prints.
type releasesJSON struct {
	// Running is the version the running system reports; null when
	// nothing runs.
	Running *string `json:"running"`
	// DatabaseVersion is the database's schema version (0: no migration
	// applied) and DatabaseDirty whether a migration failed on it; both
	// null without DATABASE_URL or when the database cannot be read.
	DatabaseVersion *int  `json:"database_version"`
	DatabaseDirty   *bool `json:"database_dirty"`
	// TrustedKeys are the key IDs whose signatures this binary's upgrade
	// and unpack accept; empty when releases are not signature-checked.
	TrustedKeys []string      `json:"trusted_keys"`
	Releases    []releaseJSON `json:"releases"`
}

type releaseJSON struct {
	Version string `json:"version"`
	State   string `json:"state"`
	Running bool   `json:"running"`
	// Built is the build time (RFC 3339, UTC); null when the release's
	// release.json cannot be read.
	Built *string `json:"built"`
	// NewestMigration is the version of the release's newest migration, 0
	// for a release without migrations.
	NewestMigration int `json:"newest_migration"`
}

func (c *releasesCommand) run(ctx context.Context, r *runner, args []string) error {
	if len(args) > 0 && args[0] == "prune" {
		return (&pruneCommand{}).run(ctx, r, args[1:])
	}
	fs := r.flags("releases", "[-history] [-json] | prune [-keep N] [-json]", releasesSummary+`

MIGRATION is each release's newest migration ("-": none). When DATABASE_URL
is set, a last line gives the database's schema version, so that before a
downgrade you see what it would revert; a database that cannot be reached
is reported on stderr and does not fail the command.

releases prune -h explains pruning.`)
	history := fs.Bool("history", false, "print releases/HISTORY, the switches the supervisor committed or that failed (time, user, from, to, result, duration)")
	asJSON := fs.Bool("json", false, `print one JSON object on stdout: {"running":..., "database_version":..., "database_dirty":..., "releases":[{"version", "state", "running", "built", "newest_migration"}, ...]}`)
	if err := r.noArgs(fs, args, "releases"); err != nil {
		return err
	}
	if *history && *asJSON {
		return &UsageError{Problem: "releases -history has no -json form", Try: r.app.name + " releases -history"}
	}
	root, p, err := r.openRoot("releases")
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
	dbVersion, dirty, dbOK := r.databaseState(ctx)

	if *asJSON {
		ids, err := r.app.trustedKeyIDs()
		if err != nil {
			return err
		}
		out := releasesJSON{Releases: []releaseJSON{}, TrustedKeys: append([]string{}, ids...)}
		if running != "" {
			out.Running = &running
		}
		if dbOK {
			v := max(dbVersion, 0)
			out.DatabaseVersion, out.DatabaseDirty = &v, &dirty
		}
		for _, in := range list {
			rj := releaseJSON{Version: in.Version, State: string(in.State), Running: in.Running}
			if in.Manifest != nil {
				built := in.Manifest.BuildTime.UTC().Format(time.RFC3339)
				rj.Built = &built
				if top, err := install.HighestMigration(in.Manifest); err == nil {
					rj.NewestMigration = max(top, 0)
				}
			}
			out.Releases = append(out.Releases, rj)
		}
		return json.NewEncoder(r.stdout).Encode(out)
	}

	tw := tabwriter.NewWriter(r.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tRUNNING\tMIGRATION\tBUILT")
	listed := false
	for _, in := range list {
		run, built, mig := "", "-", "-"
		if in.Running {
			run, listed = "yes", true
		}
		if in.Manifest != nil {
			built = in.Manifest.BuildTime.UTC().Format("2006-01-02 15:04:05Z")
			if top, err := install.HighestMigration(in.Manifest); err != nil {
				mig = "?"
			} else {
				mig = migrationName(top)
				if top == install.NoMigrations {
					mig = "-"
				}
			}
		} else if in.Err != nil {
			built = "(missing: " + in.Err.Error() + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", in.Version, in.State, run, mig, built)
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
	if dbOK {
		writeDatabaseLine(r.stdout, r.app.name, dbVersion, dirty)
	}
	fmt.Fprintf(r.stdout, "signatures: %s\n", r.app.signaturePolicy())
	return nil
}

func writeDatabaseLine(w io.Writer, name string, version int, dirty bool) {
	switch {
	case dirty:
		fmt.Fprintf(w, "database: version %d, dirty (a migration failed midway; %s migrate status says how to recover)\n", max(version, 0), name)
	case version == install.NoMigrations:
		fmt.Fprintln(w, "database: version 0 (no migration applied)")
	default:
		fmt.Fprintf(w, "database: version %d\n", version)
	}
}

// databaseReadTimeout bounds how long releases waits for the database.
const databaseReadTimeout = 10 * time.Second

// databaseState reads the database's schema version and whether it is
// dirty, as migrate status does, when the app has migrations and
// DATABASE_URL is set; ok is false otherwise. A database that cannot be
// read is reported on stderr, never as a failure: releases lists what is
// installed whatever the database's state.
func (r *runner) databaseState(ctx context.Context) (version int, dirty, ok bool) {
	if r.app.migrations == nil {
		return 0, false, false
	}
	if url, set := r.env.Lookup("DATABASE_URL"); !set || url == "" {
		if _, fileSet := r.env.Lookup("DATABASE_URL_FILE"); !fileSet {
			return 0, false, false
		}
	}
	db, err := r.schemaReader()
	if err != nil || db == nil {
		if err != nil {
			fmt.Fprintf(r.stderr, "Note: the database's schema version is not shown: %v\n", err)
		}
		return 0, false, false
	}
	ctx, cancel := context.WithTimeout(ctx, databaseReadTimeout)
	defer cancel()
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		fmt.Fprintf(r.stderr, "Note: the database's schema version is not shown: reading it failed: %v\nTry: %s migrate status\n", err, r.app.name)
		return 0, false, false
	}
	if m, isMigrator := db.(migratehook.Migrator); isMigrator {
		if err := m.WriteStatus(ctx, io.Discard); errors.Is(err, migratehook.ErrDirty) {
			dirty = true
		}
	}
	return v, dirty, true
}
