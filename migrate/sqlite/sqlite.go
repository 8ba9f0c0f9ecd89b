package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-migrate/migrate/v4/database"
	gmsqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	_ "github.com/relkit/relkit/migrate" // links the migrate and rollback commands into release
	"github.com/relkit/relkit/migrate/internal/dbdriver"
	"github.com/relkit/relkit/migrate/internal/sqlscan"
	_ "modernc.org/sqlite" // registers "sqlite"
)

func init() {
	dbdriver.Register(&dbdriver.Driver{
		Engine:  "SQLite",
		Schemes: []string{"sqlite", "sqlite3"},
		OpenDB:  openDB,
		Connect: connect,
	})
}

// config is a parsed sqlite://PATH URL.
type config struct {
	path     string
	params   url.Values // passed to the modernc driver
	noTxWrap bool       // x-no-tx-wrap: do not wrap files in a transaction
}

func parse(raw string) (config, error) {
	_, rest, _ := strings.Cut(raw, "://")
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return config{}, dbdriver.BadURL("the SQLite URL names no file; want sqlite://PATH, e.g. sqlite://app.db or sqlite:///var/lib/app/app.db")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return config{}, dbdriver.BadURL("SQLite URL parameters: %w", err)
	}
	c := config{path: path, params: q}
	for k, v := range q {
		if !strings.HasPrefix(k, "x-") {
			continue
		}
		switch k {
		case "x-no-tx-wrap":
			if c.noTxWrap, err = strconv.ParseBool(v[0]); err != nil {
				return config{}, dbdriver.BadURL("SQLite URL parameter x-no-tx-wrap=%q: want true or false", v[0])
			}
		default:
			return config{}, dbdriver.BadURL("SQLite URL parameter %s is not supported (relkit supports x-no-tx-wrap)", k)
		}
		q.Del(k)
	}
	return c, nil
}

// dsn builds modernc's DSN with relkit's defaults unless the URL sets them:
// a busy timeout, foreign keys enforced, and times in SQLite's own format.
func (c config) dsn(busy time.Duration) string {
	q := url.Values{}
	for k, v := range c.params {
		q[k] = append([]string(nil), v...)
	}
	pragmas := strings.Join(q["_pragma"], ",")
	if !strings.Contains(pragmas, "busy_timeout") {
		q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	}
	if !strings.Contains(pragmas, "foreign_keys") {
		q.Add("_pragma", "foreign_keys(1)")
	}
	if q.Get("_time_format") == "" {
		q.Set("_time_format", "sqlite")
	}
	return c.path + "?" + q.Encode()
}

func openDB(ctx context.Context, raw string) (*sql.DB, error) {
	c, err := parse(raw)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", c.dsn(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("open SQLite database %s: %w", c.path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open SQLite database %s: %w", c.path, err)
	}
	return db, nil
}

var literals = dbdriver.Literals{
	String: dbdriver.QuoteString,
	Bool: func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	},
	// The text modernc writes for a time.Time with _time_format=sqlite.
	Time: func(t time.Time) string {
		return dbdriver.QuoteString(t.UTC().Format("2006-01-02 15:04:05.999999999-07:00"))
	},
}

type session struct {
	db      *sql.DB
	cfg     config
	lock    *fileLock
	dialect dbdriver.Dialect
}

func connect(ctx context.Context, raw string) (dbdriver.Session, error) {
	c, err := parse(raw)
	if err != nil {
		return nil, err
	}
	busy := time.Minute
	if d, ok := ctx.Deadline(); ok {
		busy = max(time.Until(d), time.Millisecond)
	}
	db, err := sql.Open("sqlite", c.dsn(busy))
	if err != nil {
		return nil, fmt.Errorf("open SQLite database %s: %w", c.path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", c.path, err)
	}
	return &session{db: db, cfg: c, lock: newFileLock(c.path, c.params), dialect: dbdriver.Dialect{
		VersionTable: "schema_migrations",
		HistoryTable: "relkit_migrations",
		CreateHistory: "CREATE TABLE IF NOT EXISTS relkit_migrations (" +
			"version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at DATETIME NOT NULL)",
		Tables:  "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('schema_migrations', 'relkit_migrations')",
		Literal: literals.Literal,
		Atomic:  !c.noTxWrap,
		Syntax:  sqlscan.SQLite,
	}}, nil
}

// DB is the session's one-connection pool: golang-migrate's SQLite driver
// takes a *sql.DB, so relkit's queries share it rather than pinning the
// connection.
func (s *session) DB() dbdriver.Querier      { return s.db }
func (s *session) Dialect() dbdriver.Dialect { return s.dialect }

// Lock takes the lock file beside the database (see fileLock), which
// excludes every other migration run on the file, in this process or
// another, and is released by the kernel if the process dies.
func (s *session) Lock(ctx context.Context) error { return s.lock.lock(ctx) }

func (s *session) Unlock(context.Context) error { return s.lock.unlock() }

func (s *session) Migrator(context.Context) (database.Driver, error) {
	return gmsqlite.WithInstance(s.db, &gmsqlite.Config{MigrationsTable: "schema_migrations", NoTxWrap: s.cfg.noTxWrap})
}

// Apply runs the file and the record in one transaction. If the process
// dies before the commit, SQLite rolls the transaction back from its
// journal when the database is next opened.
func (s *session) Apply(ctx context.Context, file []byte, record []string) error {
	if s.cfg.noTxWrap {
		return fmt.Errorf("%w: x-no-tx-wrap=true runs a file without a transaction", dbdriver.ErrNotAtomic)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin a transaction: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, string(file)); err != nil {
		return &database.Error{OrigErr: err, Query: file}
	}
	for _, r := range record {
		if _, err := tx.ExecContext(ctx, r); err != nil {
			return fmt.Errorf("record the migration: %w", err)
		}
	}
	// A failed COMMIT (the database busy past the timeout) leaves nothing
	// committed: the deferred Rollback ends the transaction.
	return tx.Commit()
}

func (s *session) Close() error {
	s.lock.unlock()
	return s.db.Close()
}
