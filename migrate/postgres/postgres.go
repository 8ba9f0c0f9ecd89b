package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-migrate/migrate/v4/database"
	gmpostgres "github.com/golang-migrate/migrate/v4/database/postgres"
	"github.com/lib/pq"
	_ "github.com/relkit/relkit/migrate" // links the migrate and rollback commands into release
	"github.com/relkit/relkit/migrate/internal/dbdriver"
)

func init() {
	dbdriver.Register(&dbdriver.Driver{
		Engine:  "PostgreSQL",
		Schemes: []string{"postgres", "postgresql", "ecto"},
		OpenDB:  openDB,
		Connect: connect,
	})
}

// config is a parsed DATABASE_URL.
type config struct {
	dsn   string // for lib/pq, without relkit's parameters
	multi bool   // x-multi-statement: run a file statement by statement
}

// parse turns a DATABASE_URL into lib/pq's form. Errors never contain the
// URL, which may hold a password.
func parse(raw string) (config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return config{}, dbdriver.BadURL("the PostgreSQL URL does not parse; want postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable (percent-encode special characters in the password)")
	}
	u.Scheme = "postgres" // ecto:// and postgresql:// mean the same
	var c config
	q := u.Query()
	for k, v := range q {
		if !strings.HasPrefix(k, "x-") {
			continue
		}
		switch k {
		case "x-multi-statement":
			if c.multi, err = strconv.ParseBool(v[0]); err != nil {
				return config{}, dbdriver.BadURL("PostgreSQL URL parameter x-multi-statement=%q: want true or false", v[0])
			}
		default:
			return config{}, dbdriver.BadURL("PostgreSQL URL parameter %s is not supported (relkit supports x-multi-statement)", k)
		}
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	c.dsn = u.String()
	return c, nil
}

func openDB(ctx context.Context, raw string) (*sql.DB, error) {
	c, err := parse(raw)
	if err != nil {
		return nil, err
	}
	conn, err := pq.NewConnector(c.dsn)
	if err != nil {
		return nil, dbdriver.BadURL("PostgreSQL URL: %w", err)
	}
	db := sql.OpenDB(conn)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return db, nil
}

type session struct {
	db      *sql.DB
	conn    *sql.Conn
	cfg     config
	dbName  string
	schema  string
	lockID  string
	dialect dbdriver.Dialect
}

func connect(ctx context.Context, raw string) (dbdriver.Session, error) {
	c, err := parse(raw)
	if err != nil {
		return nil, err
	}
	pcfg, err := pq.NewConfig(c.dsn)
	if err != nil {
		return nil, dbdriver.BadURL("PostgreSQL URL: %w", err)
	}
	// lib/pq ignores ctx while it waits for the server's handshake; its
	// connect_timeout bounds the whole of it.
	if d, ok := ctx.Deadline(); ok {
		pcfg.ConnectTimeout = max(time.Until(d), time.Millisecond)
	}
	connector, err := pq.NewConnectorConfig(pcfg)
	if err != nil {
		return nil, dbdriver.BadURL("PostgreSQL URL: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &session{db: db, conn: conn, cfg: c}
	var schema sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT current_database(), current_schema()").Scan(&s.dbName, &schema); err != nil {
		s.Close()
		return nil, err
	}
	if !schema.Valid {
		s.Close()
		return nil, errors.New("no current schema: the search_path names no existing schema; create it or fix search_path")
	}
	s.schema = schema.String
	// The key golang-migrate uses, so that both tools exclude each other.
	if s.lockID, err = database.GenerateAdvisoryLockId(s.dbName, s.schema, "schema_migrations"); err != nil {
		s.Close()
		return nil, err
	}
	qs := pq.QuoteIdentifier(s.schema)
	s.dialect = dbdriver.Dialect{
		VersionTable: qs + "." + pq.QuoteIdentifier("schema_migrations"),
		HistoryTable: qs + "." + pq.QuoteIdentifier("relkit_migrations"),
		CreateHistory: "CREATE TABLE IF NOT EXISTS " + qs + ".relkit_migrations (" +
			"version bigint PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL)",
		Tables:           "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('schema_migrations', 'relkit_migrations')",
		Placeholder:      func(n int) string { return "$" + strconv.Itoa(n) },
		TransactionalDDL: !c.multi,
	}
	return s, nil
}

func (s *session) DB() dbdriver.Querier      { return s.conn }
func (s *session) Dialect() dbdriver.Dialect { return s.dialect }

// Lock waits for golang-migrate's advisory lock with the server's own
// lock_timeout set to what is left of ctx, so a timed-out wait is cancelled
// by the server and never acquires the lock later.
func (s *session) Lock(ctx context.Context) error {
	ms := int64(0) // 0 disables lock_timeout
	if d, ok := ctx.Deadline(); ok {
		ms = max(time.Until(d).Milliseconds(), 1)
	}
	// One round trip; the key is a number computed above, so inlining it
	// is safe. On failure the session is closed, ending the transaction.
	_, err := s.conn.ExecContext(ctx, "BEGIN; SET LOCAL lock_timeout = "+strconv.FormatInt(ms, 10)+
		"; SELECT pg_advisory_lock("+s.lockID+"); COMMIT")
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "55P03" { // lock_not_available
		return dbdriver.ErrLockTimeout
	}
	return err
}

func (s *session) Unlock(ctx context.Context) error {
	_, err := s.conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+s.lockID+")")
	return err
}

// Migrator binds golang-migrate's driver to the session's connection. Its
// own pg_advisory_lock, taken while it creates schema_migrations, is
// granted at once because this session already holds it.
func (s *session) Migrator(ctx context.Context) (database.Driver, error) {
	return gmpostgres.WithConnection(ctx, s.conn, &gmpostgres.Config{
		DatabaseName:          s.dbName,
		SchemaName:            s.schema,
		MultiStatementEnabled: s.cfg.multi,
		MultiStatementMaxSize: gmpostgres.DefaultMultiStatementMaxSize,
	})
}

func (s *session) Close() error {
	s.conn.Close()
	return s.db.Close()
}
