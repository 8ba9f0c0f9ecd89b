package release

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/migratehook"
)

const migrateSummary = "apply pending migrations; also: migrate status, migrate force VERSION, migrate create NAME"

const migrateUsage = `[status | force VERSION | create [-dir DIR] NAME]

  migrate               apply every pending migration, logging each with its duration;
                        an up-to-date database is a success
  migrate status        list every migration: version, name, state, when applied;
                        then the database's version and whether it is dirty
  migrate force VERSION mark the database clean at VERSION ("none": no migration) without
                        running anything; safe only once the schema really is at VERSION,
                        as the error of a failed migration explains
  migrate create NAME   write the next VERSION_NAME.up.sql / .down.sql pair into
                        ./migrations (-dir DIR) of the source tree (development)

Replicas may run migrate at once: they take turns on the database's lock, waiting at
most MIGRATE_LOCK_TIMEOUT (connecting included).`

// migrateCommand applies migrations, and runs migrate status, force and
// create.
type migrateCommand struct{}

func (c *migrateCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("migrate", migrateUsage, migrateSummary)
	if err := r.parse(fs, args[:min(len(args), 1)]); err != nil {
		return err
	}
	sub, rest := "", args
	if len(args) > 0 {
		sub, rest = args[0], args[1:]
	}
	switch sub {
	case "":
		return r.migrateUp(ctx)
	case "status":
		return r.migrateStatus(ctx, rest)
	case "force":
		return r.migrateForce(ctx, rest)
	case "create":
		return r.migrateCreate(rest)
	}
	return &UsageError{Problem: fmt.Sprintf("unknown migrate command %q", sub), Try: r.app.name + " migrate -h"}
}

func (r *runner) migrateUp(ctx context.Context) error {
	base, log, err := r.setupDatabase()
	if err != nil {
		return err
	}
	if err := r.applyEnvFile(); err != nil {
		return err
	}
	m, mc, err := r.migrator(base, log)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := m.Up(ctx)
	if err != nil {
		return migrateError(err, mc)
	}
	if len(res.Ran) == 0 {
		fmt.Fprintf(r.stdout, "Already up to date at version %s.\n", res.Version)
		return nil
	}
	fmt.Fprintf(r.stdout, "Migrated to version %s: applied %d in %s (%s).\n", res.Version, len(res.Ran),
		time.Since(start).Round(time.Millisecond), strings.Join(res.Ran, ", "))
	return nil
}

func (r *runner) migrateStatus(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return &UsageError{Problem: fmt.Sprintf("migrate status takes no arguments, got %q", args[0]), Try: r.app.name + " migrate status"}
	}
	base, log, err := r.setupDatabase()
	if err != nil {
		return err
	}
	if err := r.applyEnvFile(); err != nil {
		return err
	}
	m, mc, err := r.migrator(base, log)
	if err != nil {
		return err
	}
	return migrateError(m.WriteStatus(ctx, r.stdout), mc)
}

func (r *runner) migrateForce(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return &UsageError{Problem: "migrate force needs exactly one VERSION (a migration's version, or none)", Try: r.app.name + " migrate status   (lists the versions)"}
	}
	version := -1
	if args[0] != "none" && args[0] != "-1" {
		v, err := strconv.ParseUint(args[0], 10, 63)
		if err != nil {
			return &UsageError{Problem: fmt.Sprintf("migrate force %s: VERSION must be a migration's version or none", args[0]), Try: r.app.name + " migrate status   (lists the versions)"}
		}
		version = int(v)
	}
	base, log, err := r.setupDatabase()
	if err != nil {
		return err
	}
	if err := r.applyEnvFile(); err != nil {
		return err
	}
	m, mc, err := r.migrator(base, log)
	if err != nil {
		return err
	}
	if err := m.Force(ctx, version); err != nil {
		return migrateError(err, mc)
	}
	fmt.Fprintf(r.stdout, "Database marked clean at version %s. Run %s migrate status to check, then %s migrate.\n", args[0], r.app.name, r.app.name)
	return nil
}

func (r *runner) migrateCreate(args []string) error {
	fs := r.flags("migrate create", "[-dir DIR] NAME", "write the next VERSION_NAME.up.sql / .down.sql pair (development)")
	dir := fs.String("dir", "migrations", "the migrations directory of the app's source tree")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &UsageError{Problem: "migrate create needs one NAME, e.g. add_clicks", Try: r.app.name + " migrate create add_clicks"}
	}
	impl, ok := migratehook.Get()
	if !ok {
		return fmt.Errorf("this binary links no database driver: import one of %s, %s or %s in the application's main package",
			migratehook.Imports["postgres"], migratehook.Imports["mysql"], migratehook.Imports["sqlite"])
	}
	up, down, err := impl.Create(*dir, fs.Arg(0), time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Created\n  %s\n  %s\nRebuild the binary to embed them.\n", up, down)
	return nil
}
