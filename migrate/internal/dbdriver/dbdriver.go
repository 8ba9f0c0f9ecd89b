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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-migrate/migrate/v4/database"
	"github.com/relkit/relkit/migrate/internal/sqlscan"
)

// ErrLockTimeout is returned by Session.Lock when the engine's own lock
// wait ran out. A driver may wrap it to say who holds the lock.
var ErrLockTimeout = errors.New("lock wait timed out")

// ErrNotAtomic is returned (wrapped, with the reason) by Session.Apply when
// the file cannot run in one transaction with its record. Nothing ran; the
// caller runs the file on its own.
var ErrNotAtomic = errors.New("cannot run in one transaction with its record")

// ErrOutcomeUnknown is returned (wrapped) by Session.Apply when the
// connection failed before the engine said whether the transaction
// committed: it either committed, file and record together, or did not.
var ErrOutcomeUnknown = errors.New("outcome unknown")

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

	// Transient reports whether an error of Connect means the server is
	// not ready yet (starting up, out of connections), so connecting again
	// later may work. Network errors (refused, reset, no such host) are
	// judged by package migrate; nil means none other is.
	Transient func(err error) bool
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

	// Apply runs a migration file, then the statements of record, in one
	// transaction: they commit together or not at all, even if the process
	// dies meanwhile. An error from the file is a golang-migrate
	// database.Error (with the file's line when the engine gives one);
	// after any error but ErrOutcomeUnknown nothing was committed. It
	// returns ErrNotAtomic, having run nothing, when the session or the
	// file rules a transaction out (Dialect.Atomic false, or a file that
	// commits by itself).
	Apply(ctx context.Context, file []byte, record []string) error

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

	// Literal returns v (an int, int64, string, bool or time.Time) as an
	// SQL literal of the engine, for the statements passed to Apply.
	Literal func(v any) string

	// Atomic reports whether Apply can commit a file with its record
	// (PostgreSQL and SQLite unless the URL turns it off; never MySQL,
	// which commits each DDL statement as it goes).
	Atomic bool

	// Syntax is how the engine quotes, to split files into statements.
	Syntax sqlscan.Syntax

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

// Literals formats the values relkit writes into its tables as SQL
// literals, with an engine's rules for strings, booleans and times.
type Literals struct {
	String func(s string) string
	Bool   func(b bool) string
	Time   func(t time.Time) string
}

// Literal formats v: an int, int64, uint, string, bool or time.Time. Any
// other type is a bug in the caller, and panics.
func (l Literals) Literal(v any) string {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint:
		return strconv.FormatUint(uint64(x), 10)
	case string:
		return l.String(x)
	case bool:
		return l.Bool(x)
	case time.Time:
		return l.Time(x)
	}
	panic(fmt.Sprintf("dbdriver: no SQL literal for %T", v))
}

// QuoteString quotes s as a standard SQL string literal, doubling each
// single quote in it.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
