package release

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/relkit/relkit/internal/migratehook"
	"github.com/relkit/relkit/runtimeconfig"
)

// setupDatabase is setup for the commands that only migrate (migrate,
// migrate status, migrate force, rollback) and for the switches' schema
// checks: it loads runtimeconfig.Base (DATABASE_URL, LOG_*) and the
// migration settings, never the app's own variables, so that a migration
// job needs no app secret it does not use.
func (r *runner) setupDatabase() (*runtimeconfig.Base, *slog.Logger, error) {
	base, err := r.settings.Base()
	_, merr := r.settings.Migrate()
	if err := joinConfigErrors(err, merr); err != nil {
		return nil, nil, err
	}
	log := r.newLogger(r.stderr, base.LogLevel.Level(), base.LogFormat).With("app", r.app.name)
	return base, log, nil
}

// checkDatabase returns what start would refuse in DATABASE_URL before
// connecting (no scheme, an unknown scheme, a scheme whose driver is not
// linked, no URL with MIGRATE_ON_START=true), with start's message, for
// config. It connects to nothing. Problems in the variables themselves are
// left to the caller, which reports them already.
func (r *runner) checkDatabase() error {
	if r.app.migrations == nil {
		return nil
	}
	base, err := r.settings.Base()
	mc, merr := r.settings.Migrate()
	if err != nil || merr != nil || (base.DatabaseURL == "" && !mc.OnStart) {
		return nil
	}
	_, _, err = r.migrator(base, slog.New(slog.DiscardHandler))
	return err
}

// migrator opens the app's migrations against DATABASE_URL, or explains
// what is missing: migrations, DATABASE_URL, or a driver import.
func (r *runner) migrator(base *runtimeconfig.Base, log *slog.Logger) (migratehook.Migrator, *migrateSettings, error) {
	mc, err := r.settings.Migrate()
	if err != nil {
		return nil, mc, err
	}
	if r.app.migrations == nil {
		return nil, mc, fmt.Errorf("%s has no migrations: set release.App.Migrations to the embedded migrations directory", r.app.name)
	}
	if base.DatabaseURL == "" {
		return nil, mc, &runtimeconfig.Error{Problems: []runtimeconfig.Problem{{Var: "DATABASE_URL",
			Message: "not set; migrations need a database, e.g. DATABASE_URL=postgres://user:pass@host/db"}}}
	}
	impl, ok := migratehook.Get()
	if !ok {
		scheme, _, _ := strings.Cut(base.DatabaseURL, "://")
		imp := migratehook.Imports[strings.ToLower(scheme)]
		if imp == "" {
			imp = migratehook.Imports["sqlite"] + `" (or postgres, mysql)`
		}
		return nil, mc, &runtimeconfig.Error{Problems: []runtimeconfig.Problem{{Var: "DATABASE_URL",
			Message: fmt.Sprintf("this binary links no database driver: add import _ %q to the application's main package", imp)}}}
	}
	m, err := impl.New(r.app.migrations, base.DatabaseURL, migratehook.Options{LockTimeout: mc.LockTimeout, Logger: log, Command: r.app.name})
	if err != nil {
		return nil, mc, migrateError(err, mc)
	}
	return m, mc, nil
}

// migrateError turns a migration error into what the release prints: a
// DATABASE_URL problem is a configuration error (exit 78), a lock timeout
// names the variable that sets it.
func migrateError(err error, mc *migrateSettings) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, migratehook.ErrConfig):
		return &runtimeconfig.Error{Problems: []runtimeconfig.Problem{{Var: "DATABASE_URL", Message: strings.TrimPrefix(err.Error(), "migrate: ")}}}
	case errors.Is(err, migratehook.ErrLockTimeout):
		return fmt.Errorf("%w (MIGRATE_LOCK_TIMEOUT=%s)", err, mc.LockTimeout)
	}
	return err
}

// prepareDatabase runs at start, before the handler is built: with
// MIGRATE_ON_START=true it applies pending migrations; otherwise it refuses
// to boot on a database migrated by a newer release unless
// MIGRATE_ALLOW_NEWER_SCHEMA=true. An app without migrations, or without
// DATABASE_URL, skips it.
func (r *runner) prepareDatabase(ctx context.Context, base *runtimeconfig.Base, log *slog.Logger) error {
	if r.app.migrations == nil {
		return nil
	}
	mc, err := r.settings.Migrate()
	if err != nil {
		return err
	}
	if base.DatabaseURL == "" && !mc.OnStart {
		return nil
	}
	m, mc, err := r.migrator(base, log)
	if err != nil {
		return err
	}
	if mc.OnStart {
		log.Info("applying pending migrations (MIGRATE_ON_START=true)")
		_, err = m.Up(ctx)
	} else {
		err = m.Check(ctx)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, migratehook.ErrNewerSchema) && mc.AllowNewerSchema:
		log.Warn("starting on a database migrated by a newer release (MIGRATE_ALLOW_NEWER_SCHEMA=true)", "err", err)
		return nil
	case errors.Is(err, migratehook.ErrNewerSchema):
		if v, verr := m.SchemaVersion(ctx); verr == nil {
			if newer := r.newerSchemaRelease(v); newer != "" {
				log.Warn("starting on a database migrated by "+newer+" (started by the supervisor, after a failed upgrade or for downgrade -rollback)", "schema_version", v)
				return nil
			}
		}
		return fmt.Errorf("refusing to start: %w\nSet MIGRATE_ALLOW_NEWER_SCHEMA=true to start anyway, if this release works with the newer schema", err)
	case mc.OnStart:
		return fmt.Errorf("migrations at start (MIGRATE_ON_START=true) failed: %w", migrateError(err, mc))
	}
	log.Warn("could not check the database's schema version; starting anyway", "err", err)
	return nil
}
