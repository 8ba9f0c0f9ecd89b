package mysql

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/golang-migrate/migrate/v4/database"
	gmmysql "github.com/golang-migrate/migrate/v4/database/mysql"
	_ "github.com/relkit/relkit/migrate" // links the migrate and rollback commands into release
	"github.com/relkit/relkit/migrate/internal/dbdriver"
	"github.com/relkit/relkit/migrate/internal/sqlscan"
)

func init() {
	dbdriver.Register(&dbdriver.Driver{
		Engine:    "MySQL",
		Schemes:   []string{"mysql"},
		OpenDB:    openDB,
		Connect:   connect,
		Transient: transient,
	})
}

// transient reports the server's refusals that pass: out of connections,
// shutting down, and connections the driver found broken.
func transient(err error) bool {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1040 || me.Number == 1203 || me.Number == 1053 // too many connections (per server, per user); shutdown in progress
	}
	return errors.Is(err, gomysql.ErrInvalidConn)
}

var literals = dbdriver.Literals{
	// Backslashes mean different things with and without the
	// NO_BACKSLASH_ESCAPES mode; a hex literal means one thing in both.
	String: func(s string) string {
		if strings.ContainsAny(s, "\\\x00") {
			return "X'" + hex.EncodeToString([]byte(s)) + "'"
		}
		return dbdriver.QuoteString(s)
	},
	Bool: func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	},
	Time: func(t time.Time) string {
		return "'" + t.UTC().Format("2006-01-02 15:04:05.999999") + "'"
	},
}

// parse accepts both URL forms in use:
//
//	mysql://USER:PASSWORD@HOST:PORT/DATABASE?param=value        (Ecto, Rails)
//	mysql://USER:PASSWORD@tcp(HOST:PORT)/DATABASE?param=value   (golang-migrate)
//
// parseTime defaults to true. Errors never contain the URL, which may hold a
// password.
func parse(raw string) (*gomysql.Config, error) {
	rest := raw[len("mysql://"):]
	var cfg *gomysql.Config
	if strings.Contains(rest, "tcp(") || strings.Contains(rest, "unix(") {
		c, err := gomysql.ParseDSN(rest)
		if err != nil {
			return nil, dbdriver.BadURL("the MySQL URL does not parse as USER:PASSWORD@tcp(HOST:PORT)/DATABASE")
		}
		// golang-migrate percent-decodes user and password; so do we.
		if c.User, err = url.QueryUnescape(c.User); err != nil {
			return nil, dbdriver.BadURL("the MySQL URL's user is not valid percent-encoding")
		}
		if c.Passwd, err = url.QueryUnescape(c.Passwd); err != nil {
			return nil, dbdriver.BadURL("the MySQL URL's password is not valid percent-encoding")
		}
		cfg = c
	} else {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, dbdriver.BadURL("the MySQL URL does not parse; want mysql://USER:PASSWORD@HOST:PORT/DATABASE (percent-encode special characters in the password)")
		}
		q := u.RawQuery
		if q != "" {
			q = "?" + q
		}
		c, err := gomysql.ParseDSN("/" + strings.TrimPrefix(u.Path, "/") + q)
		if err != nil {
			return nil, dbdriver.BadURL("MySQL URL parameters: %w", err)
		}
		c.User = u.User.Username()
		c.Passwd, _ = u.User.Password()
		c.Net, c.Addr = "tcp", u.Host
		if u.Port() == "" {
			c.Addr = net.JoinHostPort(u.Hostname(), "3306")
		}
		cfg = c
	}
	for k := range cfg.Params {
		if strings.HasPrefix(k, "x-") {
			return nil, dbdriver.BadURL("MySQL URL parameter %s is not supported by relkit", k)
		}
	}
	if !strings.Contains(raw, "parseTime=") {
		cfg.ParseTime = true
	}
	return cfg, nil
}

func openDB(ctx context.Context, raw string) (*sql.DB, error) {
	cfg, err := parse(raw)
	if err != nil {
		return nil, err
	}
	conn, err := gomysql.NewConnector(cfg)
	if err != nil {
		return nil, dbdriver.BadURL("MySQL URL: %w", err)
	}
	db := sql.OpenDB(conn)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to MySQL: %w", err)
	}
	return db, nil
}

type session struct {
	db      *sql.DB
	conn    *sql.Conn
	dbName  string
	lockID  string
	dialect dbdriver.Dialect
}

func connect(ctx context.Context, raw string) (dbdriver.Session, error) {
	cfg, err := parse(raw)
	if err != nil {
		return nil, err
	}
	cfg.MultiStatements = true // a migration file is one multi-statement query
	connector, err := gomysql.NewConnector(cfg)
	if err != nil {
		return nil, dbdriver.BadURL("MySQL URL: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &session{db: db, conn: conn}
	var name sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&name); err != nil {
		s.Close()
		return nil, err
	}
	if name.String == "" {
		s.Close()
		return nil, dbdriver.BadURL("the MySQL URL names no database: add /DATABASE after the host")
	}
	s.dbName = name.String
	// The name golang-migrate locks, so that both tools exclude each other.
	if s.lockID, err = database.GenerateAdvisoryLockId(s.dbName + ":schema_migrations"); err != nil {
		s.Close()
		return nil, err
	}
	s.dialect = dbdriver.Dialect{
		VersionTable: "`schema_migrations`",
		HistoryTable: "`relkit_migrations`",
		CreateHistory: "CREATE TABLE IF NOT EXISTS `relkit_migrations` (" +
			"version BIGINT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, checksum CHAR(64) NOT NULL, applied_at DATETIME(6) NOT NULL)",
		Tables:  "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN ('schema_migrations', 'relkit_migrations')",
		Literal: literals.Literal,
		// MySQL commits each DDL statement as it runs: a file cannot
		// commit with its record. Its "at line N" counts from the failing
		// statement, not the file, so it stays in the engine's message and
		// is not reported as the file's line.
		Atomic: false,
		Syntax: sqlscan.MySQL,
	}
	return s, nil
}

func (s *session) DB() dbdriver.Querier      { return s.conn }
func (s *session) Dialect() dbdriver.Dialect { return s.dialect }

// Lock waits for golang-migrate's named lock with GET_LOCK's own timeout
// set to what is left of ctx; a wait that times out holds nothing.
func (s *session) Lock(ctx context.Context) error {
	secs := 365 * 24 * 3600.0
	if d, ok := ctx.Deadline(); ok {
		secs = max(time.Until(d).Seconds(), 0.001)
	}
	var got sql.NullInt64
	if err := s.conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", s.lockID, secs).Scan(&got); err != nil {
		return err
	}
	if !got.Valid || got.Int64 != 1 {
		return dbdriver.ErrLockTimeout
	}
	return nil
}

func (s *session) Unlock(ctx context.Context) error {
	_, err := s.conn.ExecContext(ctx, "SELECT RELEASE_LOCK(?)", s.lockID)
	return err
}

// Migrator binds golang-migrate's driver to the session's connection. Its
// own GET_LOCK, taken while it creates schema_migrations, is granted at once
// because this session already holds the lock.
func (s *session) Migrator(ctx context.Context) (database.Driver, error) {
	return gmmysql.WithConnection(ctx, s.conn, &gmmysql.Config{DatabaseName: s.dbName})
}

// Apply is never possible on MySQL: see Dialect.Atomic.
func (s *session) Apply(context.Context, []byte, []string) error {
	return fmt.Errorf("%w: MySQL commits schema changes statement by statement", dbdriver.ErrNotAtomic)
}

func (s *session) Close() error {
	s.conn.Close()
	return s.db.Close()
}
