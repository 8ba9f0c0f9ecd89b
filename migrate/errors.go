package migrate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-migrate/migrate/v4/database"
	"github.com/relkit/relkit/internal/migratehook"
	"github.com/relkit/relkit/migrate/internal/sqlscan"
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

	// ErrDirty: the database is marked dirty: a migration file was started
	// outside a transaction with its record and did not finish, in this
	// run or an earlier one, or another tool left the mark
	// ([*DirtyError]).
	ErrDirty = errors.New("migrate: database is dirty")

	// ErrFailed: a migration file failed in this run and the engine rolled
	// it back together with its record; the database is as it was before
	// the file, and clean ([*FailedError]).
	ErrFailed = errors.New("migrate: migration failed")

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

	// ErrLockTimeout: another process held the migration lock, or the
	// database did not accept a connection (refused, or did not answer),
	// for longer than Options.LockTimeout. Nothing was changed and no
	// lock was left behind.
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

// DirtyError reports a database marked dirty: a migration file was
// started, and its end never recorded, by a run that could not commit the
// file together with its record (MySQL, or a file that cannot run in a
// transaction), or by another tool (golang-migrate's CLI, an older
// relkit). Cause is set when the file failed in this run; nil when the
// mark was found at the start of a run, when nobody can know how far the
// file got: the message lists its statements and says which recovery
// command fits each outcome. golang-migrate and relkit refuse to migrate a
// dirty database until an operator runs [Migrator.Force].
type DirtyError struct {
	// Version is the dirty version recorded in the database.
	Version int
	// Failed is the migration whose file was started; nil if the binary
	// has no migration for the dirty version.
	Failed *Migration
	// Down is true when the file is the down file (a rollback), false for
	// the up file.
	Down bool
	// Line is the line of the failed file the engine reported, 0 if none.
	Line int
	// Engine names the database engine: "PostgreSQL".
	Engine string
	// Cause is the engine's error, when the file failed in this run.
	Cause error
	// Command is how the operator runs the release: Options.Command.
	Command string
	// Previous is the version before Failed (NilVersion for the first).
	Previous int

	stmts []sqlscan.Statement // the file's, for the advice
	why   string              // why this run could not use a transaction
}

// ForceIfApplied returns the version to force when every statement of the
// file took effect: Failed's version after its up file, the version before
// it after its down file.
func (e *DirtyError) ForceIfApplied() int {
	switch {
	case e.Failed == nil:
		return e.Version
	case e.Down:
		return e.Previous
	}
	return int(e.Failed.Version)
}

// ForceIfNotApplied returns the version to force when no statement of the
// file took effect: the version before Failed after its up file, Failed's
// version after its down file.
func (e *DirtyError) ForceIfNotApplied() int {
	switch {
	case e.Failed == nil:
		return e.Version
	case e.Down:
		return int(e.Failed.Version)
	}
	return e.Previous
}

func (e *DirtyError) file() string {
	switch {
	case e.Failed == nil:
		return "version " + FormatVersion(e.Version)
	case e.Down:
		return e.Failed.Down
	}
	return e.Failed.Up
}

// maxAdvice is how many of a file's statements the advice lists.
const maxAdvice = 15

func (e *DirtyError) Error() string {
	var b strings.Builder
	file, c := e.file(), e.Command
	if e.Cause != nil {
		fmt.Fprintf(&b, "migrate: %s failed", file)
		if e.Line > 0 {
			fmt.Fprintf(&b, " at line %d", e.Line)
		}
		fmt.Fprintf(&b, ": %s\n", causeText(e.Cause))
	} else {
		fmt.Fprintf(&b, "migrate: database is dirty at version %s: %s was started but its end was never recorded: the run that started it failed or was stopped (this process, another one, or another tool such as golang-migrate's CLI).\n", FormatVersion(e.Version), file)
	}
	if e.Failed == nil {
		fmt.Fprintf(&b, "This binary has no migration %s. Repair the database by hand, then run:\n\t%s migrate force VERSION\nwith the version the database is really at.", FormatVersion(e.Version), c)
		return b.String()
	}
	prev, this := FormatVersion(e.Previous), FormatVersion(int(e.Failed.Version))
	if e.Cause != nil && e.Engine == "MySQL" {
		// The engine says which statements took effect: those before the
		// failing one.
		fmt.Fprintf(&b, "MySQL commits each statement as it runs: the statements of %s before the failing one took effect and stay; the failing one and those after it did not.\n", file)
		if !e.Down {
			fmt.Fprintf(&b, "The database is marked dirty at version %s. To recover, either undo those statements by hand (see %s) and run\n\t%s migrate force %s\nthen fix %s and run %s migrate; or finish the migration by hand and run\n\t%s migrate force %s",
				FormatVersion(e.Version), orNone(e.Failed.Down), c, prev, file, c, c, this)
		} else {
			fmt.Fprintf(&b, "The database is marked dirty at version %s. To recover, either finish reverting by hand and run\n\t%s migrate force %s\nor re-apply what was reverted by hand (see %s) and run\n\t%s migrate force %s",
				FormatVersion(e.Version), c, prev, e.Failed.Up, c, this)
		}
		return b.String()
	}
	if e.Cause != nil {
		fmt.Fprintf(&b, "%s ran %s outside a transaction with its record (%s), so statements before the failing one may have taken effect. The database is marked dirty at version %s.\n", e.Engine, file, e.why, FormatVersion(e.Version))
	} else {
		b.WriteString("Whether its changes are in the database is not known. ")
		switch e.Engine {
		case "MySQL":
			b.WriteString("MySQL commits each statement as it runs, so those that took effect are the first ones, in order.\n")
		case "PostgreSQL":
			b.WriteString("PostgreSQL applies a file run as one transaction all or nothing, but one that commits by itself, or is run statement by statement (x-multi-statement), can be partly applied.\n")
		case "SQLite":
			b.WriteString("SQLite applies a file run in a transaction all or nothing, but one run without (x-no-tx-wrap) can be partly applied.\n")
		default:
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "Look in the database for the effect of each statement of %s:\n", file)
	for i, st := range e.stmts {
		if i == maxAdvice {
			fmt.Fprintf(&b, "\t... and %d more (see %s)\n", len(e.stmts)-maxAdvice, file)
			break
		}
		fmt.Fprintf(&b, "\tline %d: %s\n", st.Line, oneLine(st.Text))
	}
	failedNow := ""
	if e.Cause != nil {
		failedNow = ", fix " + file
	}
	if !e.Down {
		if e.Cause == nil {
			fmt.Fprintf(&b, "If all of them took effect, record the migration as applied:\n\t%s migrate force %s\n", c, this)
		}
		fmt.Fprintf(&b, "If none did, record the version before it%s and run it again:\n\t%s migrate force %s\n\t%s migrate\n", failedNow, c, prev, c)
		fmt.Fprintf(&b, "If only some did, run the others by hand and record the migration as applied:\n\t%s migrate force %s\nor undo those that did (%s shows how) and do as for none.", c, this, orNone(e.Failed.Down))
		return b.String()
	}
	if e.Cause == nil {
		fmt.Fprintf(&b, "If all of them took effect, the migration is reverted; record that:\n\t%s migrate force %s\n", c, prev)
	}
	fmt.Fprintf(&b, "If none did, %s is still applied; record that%s and roll it back again:\n\t%s migrate force %s\n\t%s rollback\n", e.Failed, failedNow, c, this, c)
	fmt.Fprintf(&b, "If only some did, run the others by hand and record the migration as reverted:\n\t%s migrate force %s\nor re-apply what they reverted (%s shows how) and do as for none.", c, prev, e.Failed.Up)
	return b.String()
}

// oneLine shows a statement on one line, shortened past 200 characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + " ..."
	}
	return s
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

// FailedError reports a migration file that failed in this run on an
// engine that ran it in one transaction with its record (PostgreSQL,
// SQLite): the engine rolled both back, so nothing of the file is applied
// and the database is at the version it was, clean. Fix the file and run
// the command again; no force is needed.
//
// When Lost is true the connection failed before the engine said whether
// the transaction committed: the file and its record are either both in
// the database or neither is, and running the command again does what is
// left.
type FailedError struct {
	// Migration is the migration whose file failed.
	Migration Migration
	// Down is true when its down file failed (a rollback).
	Down bool
	// Line is the line of the file the engine reported, 0 if none.
	Line int
	// Engine names the database engine: "PostgreSQL".
	Engine string
	// Cause is the engine's error.
	Cause error
	// Version is the database's version: unchanged unless Lost.
	Version int
	// Lost is true when the outcome is unknown (see above).
	Lost bool
	// Command is how the operator runs the release: Options.Command.
	Command string
}

func (e *FailedError) Error() string {
	var b strings.Builder
	file, c := e.Migration.Up, e.Command
	if e.Down {
		file = e.Migration.Down
	}
	if e.Lost {
		fmt.Fprintf(&b, "migrate: lost the connection to %s while %s ran: %v\n", e.Engine, file, e.Cause)
		fmt.Fprintf(&b, "%s ran in one transaction with its record, so either both are in the database or neither is. ", file)
		if !e.Down {
			fmt.Fprintf(&b, "Run\n\t%s migrate\nagain once the database is reachable: it applies %s only if it is not applied.", c, e.Migration)
		} else {
			fmt.Fprintf(&b, "Run\n\t%s migrate status\nonce the database is reachable: if %s is still applied, roll it back again.", c, e.Migration)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "migrate: %s failed", file)
	if e.Line > 0 {
		fmt.Fprintf(&b, " at line %d", e.Line)
	}
	fmt.Fprintf(&b, ": %s\n", causeText(e.Cause))
	if !e.Down {
		fmt.Fprintf(&b, "%s rolled %s back with its record: nothing from it is applied, and the database is still at version %s, clean. Fix %s and run\n\t%s migrate", e.Engine, file, FormatVersion(e.Version), file, c)
	} else {
		fmt.Fprintf(&b, "%s rolled %s back with its record: %s is still applied, and the database is still at version %s, clean. Fix %s and roll back again.", e.Engine, file, e.Migration, FormatVersion(e.Version), file)
	}
	return b.String()
}

// Unwrap returns the engine's error.
func (e *FailedError) Unwrap() error { return e.Cause }

// Is makes a FailedError match [ErrFailed].
func (e *FailedError) Is(target error) bool { return target == ErrFailed }

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

// lockTimeout is the error of a lock wait that ran out; detail, when not
// empty, says who holds the lock.
func lockTimeout(engine string, d time.Duration, detail string) error {
	if detail != "" {
		return fmt.Errorf("%w: %s did not grant the migration lock within %s: %s. Nothing was changed; wait for it and run the command again, or raise the lock timeout", ErrLockTimeout, engine, d, detail)
	}
	return fmt.Errorf("%w: %s did not grant the migration lock within %s; another process may be migrating this database. Nothing was changed; wait for it and run the command again, or raise the lock timeout", ErrLockTimeout, engine, d)
}

// connectTimeout reports a database that did not accept a connection
// within the lock timeout. It matches [ErrLockTimeout].
type connectTimeout struct {
	engine   string
	timeout  time.Duration
	attempts int
	last     error // nil when the last attempt ran out of time
}

func (e *connectTimeout) Error() string {
	attempts := "1 attempt"
	if e.attempts != 1 {
		attempts = strconv.Itoa(e.attempts) + " attempts"
	}
	why := "the server did not answer"
	if e.last != nil {
		why = e.last.Error()
	}
	return fmt.Sprintf("migrate: could not connect to %s within %s, the lock timeout (%s; the last: %s). Nothing was changed. Check that the database is running and reachable at the database URL, or raise the lock timeout",
		e.engine, e.timeout, attempts, why)
}

func (e *connectTimeout) Is(target error) bool { return target == ErrLockTimeout }
func (e *connectTimeout) Unwrap() error        { return e.last }
