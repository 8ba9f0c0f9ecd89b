// Package migrate runs the SQL migrations embedded in a binary, on top of
// github.com/golang-migrate/migrate/v4, and fixes what golang-migrate's
// users keep tripping over. It is what a release's `migrate` and
// `rollback` commands run, and is usable on its own.
//
// The central type is [Migrator], made by [New] from an [io/fs.FS] of
// migration files and a database URL:
//
//	//go:embed migrations/*.sql
//	var files embed.FS
//
//	fsys, _ := fs.Sub(files, "migrations")
//	m, err := migrate.New(fsys, os.Getenv("DATABASE_URL"), migrate.Options{Command: "myapp"})
//	...
//	res, err := m.Up(ctx)                                       // apply what is pending
//	res, err = m.Rollback(ctx, migrate.RollbackOptions{To: 3})   // revert 3 and everything after it
//	res, err = m.RollbackAfter(ctx, 3)                          // revert everything after 3
//	st, err := m.Status(ctx)                                    // every migration's state; st.Err() when dirty
//
// A database driver is a separate package the application imports, so a
// binary links only the engines it uses:
//
//	import _ "github.com/relkit/relkit/migrate/postgres" // postgres://, postgresql://, ecto://
//	import _ "github.com/relkit/relkit/migrate/mysql"    // mysql:// (MySQL and MariaDB)
//	import _ "github.com/relkit/relkit/migrate/sqlite"   // sqlite://PATH, sqlite3://PATH (pure Go)
//
// A URL whose driver is not imported is a [*URLError] that names the import
// to add. [OpenDB] opens a pool for the application's own queries through
// the same drivers; migrations never use it.
//
// # Files
//
// Migrations are files at the root of the FS named VERSION_NAME.up.sql and
// VERSION_NAME.down.sql (golang-migrate's names), e.g.
// 001_create_links.up.sql or 20250102150405_add_clicks.up.sql; [Create]
// writes the next pair. Anything else at the root is an error naming the
// file ([*FilesError]), not silently skipped. [List] returns each
// migration with the SHA-256 of its files.
//
// # What relkit adds to golang-migrate
//
//   - Checksums: each applied migration is recorded with its up file's
//     SHA-256 in the table relkit_migrations, beside golang-migrate's
//     schema_migrations (which stays the source of truth for the version,
//     so golang-migrate's CLI keeps working on the same database). Up
//     refuses to run when an applied file was edited, listing them
//     ([*HistoryError]). A database migrated before relkit gets its
//     checksums recorded on the first run.
//   - Out-of-order files: a migration older than the database's version
//     that was never applied (golang-migrate #179 skips it silently) is
//     reported ([*HistoryError]).
//   - A database newer than the binary's newest migration is reported
//     ([*NewerSchemaError]); [Migrator.Check] lets a server refuse to boot
//     on it.
//   - Rollback is never golang-migrate's Down, which reverts everything:
//     it reverts one migration by default, Step, To (Ecto's semantics: To
//     and everything after it) or All, and refuses, before touching
//     anything, to cross a migration without a down file
//     ([*NoDownFileError]).
//   - No migration is applied twice after an interruption. On PostgreSQL
//     and SQLite a file, its checksum record and the new version commit in
//     one transaction: a run killed at any moment leaves the database at
//     the old version or the new one, clean, and the next run does what is
//     left. A failed file is rolled back with its record ([*FailedError]):
//     nothing to force, fix the file and run again. Where that cannot be
//     (MySQL commits DDL statement by statement; a PostgreSQL file with a
//     COMMIT of its own or CREATE INDEX CONCURRENTLY; x-multi-statement,
//     x-no-tx-wrap) relkit marks the version dirty while the file runs, as
//     golang-migrate does. A dirty database ([*DirtyError]) is never said to
//     be rolled back: the error names the file, lists its statements to
//     check in the database, and prints the [Migrator.Force] command for
//     each outcome (all of them took effect, none, some).
//   - A cancelled context stops a run after the migration in progress and
//     returns an [*InterruptedError]: an interrupted run is never a success.
//   - Each migration is logged with its duration.
//
// # Replicas and locks
//
// Every run that writes takes golang-migrate's own lock on the database
// (pg_advisory_lock on PostgreSQL, GET_LOCK on MySQL; on SQLite an flock(2)
// on the file PATH-migrate.lock beside the database), so replicas that run
// Up at once take turns and each migration is applied once, and relkit and
// golang-migrate's CLI exclude each other on the server engines.
// Options.LockTimeout bounds the wait, connecting included: a database
// that refuses connections or is not ready yet (starting up, its name not
// yet in DNS) is tried again, each attempt logged, until the timeout, so a
// migration job started together with its database works; a rejected
// password or an unknown database fails at once. The engine enforces the
// lock wait (lock_timeout, GET_LOCK's timeout) so a timed-out wait cannot
// acquire the lock later (golang-migrate #269), and the session is closed,
// releasing anything it held. Status and Check take no lock.
//
// Every run opens its own connection and closes it before returning; the
// application's pool is never used or closed (golang-migrate #578, #987).
//
// # Notes
//
//   - The SQLite lock file works for processes on one host (flock is not
//     reliable over network file systems, and SQLite itself is not either).
//   - MySQL reports the line of an error relative to the failing statement,
//     so it stays in the engine's message rather than being reported as the
//     file's line.
//   - Versions are golang-migrate's: the database stores only the newest
//     applied version, so an out-of-order file must be renumbered, not
//     applied in the middle.
package migrate
