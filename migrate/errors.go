package migrate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-migrate/migrate/v4/database"
	"github.com/relkit/relkit/internal/migratehook"
)

// Sentinel errors. Every error returned by this package that belongs to one
// of these classes matches it with [errors.Is]; the typed errors below carry
// the details.
var (
	// ErrUnsupportedURL: the database URL's scheme is unknown, or its
	// driver package is not imported into the binary ([*URLError]).
	ErrUnsupportedURL = errors.New("migrate: unsupported database URL")

	// ErrBadFiles: the migrations file system holds files that are not
	// migrations ([*FilesError]).
	ErrBadFiles = errors.New("migrate: bad migration files")

	// ErrDirty: a migration failed part-way, now or in an earlier run
	// ([*DirtyError]).
	ErrDirty = errors.New("migrate: database is dirty")

	// ErrNewerSchema: the database was migrated past this binary's newest
	// migration, by a newer release ([*NewerSchemaError]).
	ErrNewerSchema = errors.New("migrate: database schema is newer than this binary")

	// ErrHistoryMismatch: applied migration files were edited, or an older
	// migration was added after newer ones ran ([*HistoryError]).
	ErrHistoryMismatch = errors.New("migrate: migration files do not match the database's history")

	// ErrNoDownFile: a rollback would cross a migration without a down file
	// ([*NoDownFileError]). Nothing was rolled back.
	ErrNoDownFile = errors.New("migrate: migration has no down file")

	// ErrUnknownVersion: a version given to Rollback or Force is not one of
	// the binary's migrations.
	ErrUnknownVersion = errors.New("migrate: unknown migration version")

	// ErrBadRollback: the RollbackOptions are invalid or select more
	// migrations than are applied. Nothing was rolled back.
	ErrBadRollback = errors.New("migrate: invalid rollback")

	// ErrLockTimeout: another process held the migration lock (or the
	// database did not answer) for longer than Options.LockTimeout.
	// Nothing was changed and no lock was left behind.
	ErrLockTimeout = errors.New("migrate: timed out waiting for the migration lock")

	// ErrInterrupted: the context was cancelled before every migration ran
	// ([*InterruptedError]). An interrupted run is never a success.
	ErrInterrupted = errors.New("migrate: interrupted")
)

// NilVersion is the database version before any migration ran, as in
// golang-migrate. Commands print it as "none".
const NilVersion = -1

// FormatVersion returns v as commands print it: the number, or "none" for
// [NilVersion].
func FormatVersion(v int) string {
	if v == NilVersion {
		return "none"
	}
	return strconv.Itoa(v)
}

// URLError reports a database URL this binary cannot use.
type URLError struct {
	// Scheme is the URL's scheme, "" when the URL has none.
	Scheme string
	// Import is the import that adds the scheme's driver, "" when relkit has
	// no driver for it.
	Import string
	// Reason says what is wrong when the scheme is fine but the URL is not.
	Reason string
}

// Drivers maps the DATABASE_URL schemes relkit supports to the package that
// adds each; a binary links a driver only when it imports its package.
var Drivers = migratehook.Imports

func (e *URLError) Error() string {
	switch {
	case e.Reason != "":
		return fmt.Sprintf("migrate: database URL (%s://...): %s", e.Scheme, e.Reason)
	case e.Scheme == "":
		return "migrate: database URL has no scheme: want postgres://, postgresql://, ecto://, mysql://, sqlite:// or sqlite3://"
	case e.Import != "":
		return fmt.Sprintf("migrate: database URL scheme %q needs a driver this binary does not include: add\n\timport _ %q\nto the application's main package", e.Scheme, e.Import)
	default:
		return fmt.Sprintf("migrate: database URL scheme %q is not supported: want postgres://, postgresql://, ecto:// (import _ %q), mysql:// (import _ %q), sqlite:// or sqlite3:// (import _ %q)",
			e.Scheme, Drivers["postgres"], Drivers["mysql"], Drivers["sqlite"])
	}
}

// Is makes a URLError match [ErrUnsupportedURL].
func (e *URLError) Is(target error) bool { return target == ErrUnsupportedURL }

// BadFile is one file that is not a valid migration, and why.
type BadFile struct {
	Name, Reason string
}

// FilesError lists every bad file in the migrations file system.
type FilesError struct {
	Files []BadFile
}

func (e *FilesError) Error() string {
	var b strings.Builder
	b.WriteString("migrate: bad migration files (fix or remove them; every file must be named " + FilePattern + "):")
	for _, f := range e.Files {
		fmt.Fprintf(&b, "\n\t%s: %s", f.Name, f.Reason)
	}
	return b.String()
}

// Is makes a FilesError match [ErrBadFiles].
func (e *FilesError) Is(target error) bool { return target == ErrBadFiles }

// DirtyError reports a migration that failed part-way: now (Cause is set)
// or in an earlier run (Cause is nil). The database stays marked dirty until
// an operator runs the recovery command: golang-migrate and relkit refuse to
// migrate a dirty database.
type DirtyError struct {
	// Version is the dirty version recorded in the database.
	Version int
	// Failed is the migration whose file failed; nil if the binary has no
	// migration for the dirty version.
	Failed *Migration
	// Down is true when the down file failed (a rollback), false for the up
	// file.
	Down bool
	// Line is the line of the failed file the engine reported, 0 if none.
	Line int
	// Engine names the database engine: "PostgreSQL".
	Engine string
	// RolledBack is true when the engine runs a migration file as one
	// transaction, so nothing of the failed file was applied.
	RolledBack bool
	// Cause is the engine's error, when the migration failed in this run.
	Cause error
	// Command is how the operator runs the release: Options.Command.
	Command string
	// Previous is the version before Failed (NilVersion for the first).
	Previous int
}

// RecoverTo returns the version to force once the failed file is dealt
// with, assuming the engine rolled the file back (see [DirtyError.RolledBack]):
// the version before the failed up file, or the version of the failed down
// file.
func (e *DirtyError) RecoverTo() int {
	if e.Failed == nil {
		return e.Version
	}
	if e.Down {
		return int(e.Failed.Version)
	}
	return e.Previous
}

func (e *DirtyError) Error() string {
	var b strings.Builder
	file := "version " + FormatVersion(e.Version)
	if e.Failed != nil {
		file = e.Failed.Up
		if e.Down {
			file = e.Failed.Down
		}
	}
	if e.Cause != nil {
		fmt.Fprintf(&b, "migrate: %s failed", file)
		if e.Line > 0 {
			fmt.Fprintf(&b, " at line %d", e.Line)
		}
		fmt.Fprintf(&b, ": %s\n", causeText(e.Cause))
	} else {
		fmt.Fprintf(&b, "migrate: database is dirty at version %s: %s failed in an earlier run (this process or another)\n", FormatVersion(e.Version), file)
	}
	c := e.Command
	if e.Failed == nil {
		fmt.Fprintf(&b, "This binary has no migration %s. Repair the database by hand, then run:\n\t%s migrate force VERSION\nwith the version the database is really at.", FormatVersion(e.Version), c)
		return b.String()
	}
	prev, this := FormatVersion(e.Previous), FormatVersion(int(e.Failed.Version))
	switch {
	case e.RolledBack && !e.Down:
		fmt.Fprintf(&b, "%s runs a migration file as one transaction, so it rolled %s back: nothing from it is applied (unless the file commits by itself).\n", e.Engine, file)
		fmt.Fprintf(&b, "The database is marked dirty at version %s. To recover:\n\t%s migrate force %s\nthen fix %s and run\n\t%s migrate", FormatVersion(e.Version), c, prev, file, c)
	case e.RolledBack && e.Down:
		fmt.Fprintf(&b, "%s runs a migration file as one transaction, so it rolled %s back: migration %s is still applied.\n", e.Engine, file, this)
		fmt.Fprintf(&b, "The database is marked dirty at version %s. To recover:\n\t%s migrate force %s\nthen fix %s and roll back again.", FormatVersion(e.Version), c, this, file)
	case !e.Down:
		fmt.Fprintf(&b, "%s commits schema changes statement by statement: the statements of %s before the failing one were applied and stay applied.\n", e.Engine, file)
		fmt.Fprintf(&b, "The database is marked dirty at version %s. To recover, either undo those statements by hand (see %s) and run\n\t%s migrate force %s\nthen fix %s and run %s migrate; or finish the migration by hand and run\n\t%s migrate force %s",
			FormatVersion(e.Version), orNone(e.Failed.Down), c, prev, file, c, c, this)
	default:
		fmt.Fprintf(&b, "%s commits schema changes statement by statement: the statements of %s before the failing one were applied and stay applied.\n", e.Engine, file)
		fmt.Fprintf(&b, "The database is marked dirty at version %s. To recover, either finish reverting by hand and run\n\t%s migrate force %s\nor re-apply what was reverted by hand (see %s) and run\n\t%s migrate force %s",
			FormatVersion(e.Version), c, prev, e.Failed.Up, c, this)
	}
	return b.String()
}

func orNone(down string) string {
	if down == "" {
		return "the up file"
	}
	return down
}

// causeText is the engine's message without the SQL text golang-migrate
// appends to it.
func causeText(err error) string {
	if de, ok := asDBError(err); ok {
		msg := strings.TrimPrefix(strings.TrimPrefix(de.Err, "migration failed"), ": ")
		if msg == "" && de.OrigErr != nil {
			msg = de.OrigErr.Error()
		}
		if msg != "" {
			return msg
		}
	}
	return err.Error()
}

// asDBError finds golang-migrate's database.Error, returned by value or by
// pointer depending on the driver.
func asDBError(err error) (database.Error, bool) {
	var v database.Error
	if errors.As(err, &v) {
		return v, true
	}
	var p *database.Error
	if errors.As(err, &p) && p != nil {
		return *p, true
	}
	return database.Error{}, false
}

// Unwrap returns the engine's error.
func (e *DirtyError) Unwrap() error { return e.Cause }

// Is makes a DirtyError match [ErrDirty].
func (e *DirtyError) Is(target error) bool { return target == ErrDirty }

// NewerSchemaError reports a database migrated by a newer release: its
// version is past this binary's newest migration.
type NewerSchemaError struct {
	// Version is the database's version.
	Version int
	// Latest is this binary's newest migration, NilVersion if it has none.
	Latest int
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("migrate: the database is at version %s but this binary's newest migration is %s: a newer release migrated it. Run that release (or a newer one), or roll the database back with its binary (rollback -to VERSION) before running this one",
		FormatVersion(e.Version), FormatVersion(e.Latest))
}

// Is makes a NewerSchemaError match [ErrNewerSchema].
func (e *NewerSchemaError) Is(target error) bool { return target == ErrNewerSchema }

// HistoryError lists every way the binary's migration files disagree with
// the migrations the database recorded as applied.
type HistoryError struct {
	// Edited are applied migrations whose up file changed since.
	Edited []Migration
	// OutOfOrder are migrations older than the database's version that
	// were never applied: added after a newer migration ran.
	OutOfOrder []Migration
	// Version is the database's version.
	Version int
	// Command is how the operator runs the release: Options.Command.
	Command string
}

func (e *HistoryError) Error() string {
	var b strings.Builder
	b.WriteString("migrate: the migration files do not match the database's history; nothing was migrated")
	if len(e.Edited) > 0 {
		b.WriteString("\nedited after they were applied (the SHA-256 differs from the one recorded):")
		for _, m := range e.Edited {
			fmt.Fprintf(&b, "\n\t%s", m.Up)
		}
	}
	if len(e.OutOfOrder) > 0 {
		fmt.Fprintf(&b, "\nolder than the database's version %s but never applied (added after newer migrations ran):", FormatVersion(e.Version))
		for _, m := range e.OutOfOrder {
			fmt.Fprintf(&b, "\n\t%s", m.Up)
		}
	}
	if len(e.Edited) > 0 {
		fmt.Fprintf(&b, "\nRestore edited files to what was applied and put the change in a new migration (%s migrate create NAME).", e.Command)
	}
	if len(e.OutOfOrder) > 0 {
		fmt.Fprintf(&b, "\nGive out-of-order files a version newer than %s (rename them; %s migrate create NAME picks one).", FormatVersion(e.Version), e.Command)
	}
	return b.String()
}

// Is makes a HistoryError match [ErrHistoryMismatch].
func (e *HistoryError) Is(target error) bool { return target == ErrHistoryMismatch }

// NoDownFileError reports a rollback that would cross a migration without a
// down file. Nothing was rolled back.
type NoDownFileError struct {
	Migration Migration
	// Command is how the operator runs the release: Options.Command.
	Command string
	// Previous is the version before Migration (NilVersion for the first).
	Previous int
}

func (e *NoDownFileError) Error() string {
	return fmt.Sprintf("migrate: cannot roll back %s: it has no down file (%s.down.sql); nothing was rolled back. Add the down file, or revert it by hand and run %s migrate force %s",
		e.Migration, e.Migration, e.Command, FormatVersion(e.Previous))
}

// Is makes a NoDownFileError match [ErrNoDownFile].
func (e *NoDownFileError) Is(target error) bool { return target == ErrNoDownFile }

// InterruptedError reports a run stopped by its context before it finished.
// The migration in progress when the context was cancelled was completed
// (cutting a migration short could leave it half-applied); the remaining
// ones did not run.
type InterruptedError struct {
	// Done lists the migrations that ran (applied, or reverted by Rollback).
	Done []Ran
	// Remaining lists the migrations that did not run.
	Remaining []Migration
	// Version is the database's version now; it is clean.
	Version int
	// Err is the context's cause (context.Cause): context.Canceled, or
	// what the canceller gave, e.g. the signal that stopped the process.
	Err error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("migrate: interrupted (%v) after %d of %d migrations; the database is at version %s and clean. Run the command again to do the remaining %d",
		e.Err, len(e.Done), len(e.Done)+len(e.Remaining), FormatVersion(e.Version), len(e.Remaining))
}

// Unwrap returns the context's error.
func (e *InterruptedError) Unwrap() error { return e.Err }

// Is makes an InterruptedError match [ErrInterrupted].
func (e *InterruptedError) Is(target error) bool { return target == ErrInterrupted }

func lockTimeout(engine string, d time.Duration, step string) error {
	return fmt.Errorf("%w: %s did not %s within %s; another process may be migrating this database. Nothing was changed; wait for it and run the command again, or raise the lock timeout", ErrLockTimeout, engine, step, d)
}
