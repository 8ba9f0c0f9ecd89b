// Package sqlite adds SQLite to package migrate, through modernc.org/sqlite
// (pure Go, no cgo, so static builds keep working): a blank import
// registers the URL schemes sqlite:// and sqlite3://.
//
//	import _ "github.com/relkit/relkit/migrate/sqlite"
//
//	DATABASE_URL=sqlite://links.db                 # relative to the working directory
//	DATABASE_URL=sqlite:///var/lib/links/links.db  # absolute
//
// Query parameters go to modernc's driver, e.g. _pragma=journal_mode(WAL).
// Unless the URL sets them, connections get _pragma=busy_timeout (5s for
// OpenDB, the lock timeout for migrations), _pragma=foreign_keys(1) and
// _time_format=sqlite. golang-migrate's x-no-tx-wrap=true is honoured (a
// file then runs outside a transaction); other x- parameters are refused.
//
// Each migration file runs in one transaction with relkit's record of it,
// so a failed file is rolled back as a whole, and a process killed part-way
// leaves the database as it was (SQLite rolls the transaction back from its
// journal). With x-no-tx-wrap=true a file runs on its own and leaves the
// database dirty while it runs.
//
// Runs that write take an flock(2) on PATH-migrate.lock, a file beside the
// database, so processes migrating one file take turns; one that waits
// past the lock timeout reports the PID of the process holding it. The
// kernel releases the lock when that process exits, however it exits.
package sqlite
