package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-migrate/migrate/v4/database"
	gmsqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	_ "github.com/relkit/relkit/migrate" // links the migrate and rollback commands into release
	"github.com/relkit/relkit/migrate/internal/dbdriver"
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

// locks serializes migration runs on one file within this process. SQLite
// has no lock that outlives a transaction, so runs from several processes
// on one file are not serialized: run migrate from one process at a time.
var locks sync.Map // absolute path -> chan struct{}

type session struct {
	db      *sql.DB
	cfg     config
	lock    chan struct{}
	held    bool
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
	abs, err := filepath.Abs(c.path)
	if err != nil {
		abs = c.path
	}
	l, _ := locks.LoadOrStore(abs, make(chan struct{}, 1))
	return &session{db: db, cfg: c, lock: l.(chan struct{}), dialect: dbdriver.Dialect{
		VersionTable: "schema_migrations",
		HistoryTable: "relkit_migrations",
		CreateHistory: "CREATE TABLE IF NOT EXISTS relkit_migrations (" +
			"version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at DATETIME NOT NULL)",
		Tables:           "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('schema_migrations', 'relkit_migrations')",
		Placeholder:      func(int) string { return "?" },
		TransactionalDDL: !c.noTxWrap,
	}}, nil
}

// DB is the session's one-connection pool: golang-migrate's SQLite driver
// takes a *sql.DB, so relkit's queries share it rather than pinning the
// connection.
func (s *session) DB() dbdriver.Querier      { return s.db }
func (s *session) Dialect() dbdriver.Dialect { return s.dialect }

func (s *session) Lock(ctx context.Context) error {
	select {
	case s.lock <- struct{}{}:
		s.held = true
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *session) Unlock(context.Context) error {
	if s.held {
		s.held = false
		<-s.lock
	}
	return nil
}

func (s *session) Migrator(context.Context) (database.Driver, error) {
	return gmsqlite.WithInstance(s.db, &gmsqlite.Config{MigrationsTable: "schema_migrations", NoTxWrap: s.cfg.noTxWrap})
}

func (s *session) Close() error {
	s.Unlock(context.Background())
	return s.db.Close()
}
