// Package dbdriver is the contract between package migrate and its driver
// sub-packages (migrate/postgres, migrate/mysql, migrate/sqlite). A driver
// package registers a [Driver] in its init function; migrate finds it by the
// DATABASE_URL scheme. Keeping the contract internal keeps migrate's public
// API to what applications call.
package dbdriver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/golang-migrate/migrate/v4/database"
)

// ErrLockTimeout is returned by Session.Lock when the engine's own lock
// wait ran out.
var ErrLockTimeout = errors.New("lock wait timed out")

// BadURLError is a driver's complaint about a database URL. Its message
// never contains the URL, which may hold a password.
type BadURLError struct{ err error }

func (e *BadURLError) Error() string { return e.err.Error() }
func (e *BadURLError) Unwrap() error { return e.err }

// BadURL returns a *BadURLError formatted as fmt.Errorf does.
func BadURL(format string, args ...any) error {
	return &BadURLError{fmt.Errorf(format, args...)}
}

// Driver describes one database engine.
type Driver struct {
	// Engine names the engine in messages: "PostgreSQL".
	Engine string

	// Schemes are the DATABASE_URL schemes the driver handles.
	Schemes []string

	// OpenDB opens a connection pool for the application's own queries and
	// checks that the database answers within ctx.
	OpenDB func(ctx context.Context, rawURL string) (*sql.DB, error)

	// Connect opens a dedicated migration session: one connection of its
	// own, never shared with the application. It returns once the database
	// answers or ctx is done.
	Connect func(ctx context.Context, rawURL string) (Session, error)
}

// Querier is what *sql.Conn and *sql.DB have in common.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// Session is one migration connection.
type Session interface {
	// DB runs relkit's own bookkeeping queries on the session.
	DB() Querier

	// Lock takes the engine's migration lock (the same one golang-migrate
	// takes, so both tools exclude each other), waiting at most until ctx
	// is done. When it fails it leaves no lock behind: the caller closes the
	// session, which ends the database session and every lock it holds.
	Lock(ctx context.Context) error

	// Unlock releases the lock taken by Lock.
	Unlock(ctx context.Context) error

	// Migrator returns golang-migrate's driver bound to this session. It is
	// called with the lock held, because constructing it may create the
	// schema_migrations table.
	Migrator(ctx context.Context) (database.Driver, error)

	// Dialect describes the SQL the session speaks.
	Dialect() Dialect

	// Close ends the session and closes its connection.
	Close() error
}

// Dialect holds the engine-specific SQL relkit needs for its own tables.
type Dialect struct {
	// VersionTable is golang-migrate's version table, quoted and qualified
	// as golang-migrate addresses it.
	VersionTable string

	// HistoryTable is relkit's checksum table, quoted and qualified the same
	// way as VersionTable.
	HistoryTable string

	// CreateHistory creates HistoryTable if it does not exist.
	CreateHistory string

	// Tables is a query, without parameters, returning the names of those
	// of schema_migrations and relkit_migrations that exist in the
	// session's schema.
	Tables string

	// Placeholder returns the n-th (1-based) bind parameter: "$1" or "?".
	Placeholder func(n int) string

	// TransactionalDDL reports whether a failed migration file is rolled
	// back as a whole (PostgreSQL and SQLite run each file in a transaction;
	// MySQL commits each DDL statement as it goes).
	TransactionalDDL bool

	// ErrorLine extracts the line a failed migration reported, 0 if none.
	ErrorLine func(err error) int
}

var (
	mu      sync.RWMutex
	drivers = map[string]*Driver{}
)

// Register makes d available for its schemes. It panics if a scheme is
// registered twice, as database/sql.Register does.
func Register(d *Driver) {
	mu.Lock()
	defer mu.Unlock()
	for _, s := range d.Schemes {
		if _, dup := drivers[s]; dup {
			panic("migrate: driver for scheme " + s + " registered twice")
		}
		drivers[s] = d
	}
}

// Lookup returns the driver registered for scheme.
func Lookup(scheme string) (*Driver, bool) {
	mu.RLock()
	defer mu.RUnlock()
	d, ok := drivers[scheme]
	return d, ok
}

// Schemes lists the registered schemes, sorted.
func Schemes() []string {
	mu.RLock()
	defer mu.RUnlock()
	s := make([]string, 0, len(drivers))
	for k := range drivers {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}
