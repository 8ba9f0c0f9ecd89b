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
	"github.com/relkit/relkit/migrate/internal/sqlscan"
)

func init() {
	dbdriver.Register(&dbdriver.Driver{
		Engine:    "PostgreSQL",
		Schemes:   []string{"postgres", "postgresql", "ecto"},
		OpenDB:    openDB,
		Connect:   connect,
		Transient: transient,
	})
}

// transient reports the server's refusals that pass: starting up,
// shutting down, in recovery, out of connection slots.
func transient(err error) bool {
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "57P03", // cannot_connect_now: starting up, shutting down, in recovery
		"53300", // too_many_connections
		"57P01": // admin_shutdown: a restart is under way
		return true
	}
	return false
}

var literals = dbdriver.Literals{
	String: pq.QuoteLiteral,
	Bool: func(b bool) string {
		if b {
			return "TRUE"
		}
		return "FALSE"
	},
	Time: func(t time.Time) string {
		return pq.QuoteLiteral(t.UTC().Format("2006-01-02 15:04:05.999999Z07:00")) + "::timestamptz"
	},
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
		Tables:  "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('schema_migrations', 'relkit_migrations')",
		Literal: literals.Literal,
		Atomic:  !c.multi,
		Syntax:  sqlscan.PostgreSQL,
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

// Apply sends the file and the record as one simple query. PostgreSQL runs
// a query of several statements as one transaction, committed once the
// last statement is done: a client that dies meanwhile does not stop it,
// and a failure anywhere rolls back all of it. A file that wraps itself in
// a plain BEGIN; ... COMMIT; has the two blanked out (its line and column
// numbers stay); a file with any other transaction control (a COMMIT in
// the middle, BEGIN ISOLATION LEVEL ...) cannot be atomic with its record.
func (s *session) Apply(ctx context.Context, file []byte, record []string) error {
	if s.cfg.multi {
		return fmt.Errorf("%w: x-multi-statement=true runs a file statement by statement", dbdriver.ErrNotAtomic)
	}
	body, err := unwrap(file)
	if err != nil {
		return err
	}
	var q strings.Builder
	q.Grow(len(body) + 256)
	q.Write(body)
	q.WriteString("\n;\n")
	for _, r := range record {
		q.WriteString(r)
		q.WriteString(";\n")
	}
	_, err = s.conn.ExecContext(ctx, q.String())
	var pe *pq.Error
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &pe):
		// The server may have committed before the connection failed.
		return fmt.Errorf("%w: %w", dbdriver.ErrOutcomeUnknown, err)
	case pe.Code == "25001": // active_sql_transaction: CREATE INDEX CONCURRENTLY, VACUUM...
		return fmt.Errorf("%w: %s", dbdriver.ErrNotAtomic, pe.Message)
	}
	return fileError(pe, file)
}

// fileError is golang-migrate's error for a failed file, as its PostgreSQL
// driver makes it: the message with the column, the detail, and the line.
func fileError(pe *pq.Error, file []byte) error {
	msg := "migration failed: " + pe.Message
	var line uint
	if pos, err := strconv.Atoi(pe.Position); err == nil {
		if l, col, ok := lineCol(file, pos); ok {
			line = l
			msg += fmt.Sprintf(" (column %d)", col)
		}
	}
	if pe.Detail != "" {
		msg += ", " + pe.Detail
	}
	return database.Error{OrigErr: pe, Err: msg, Query: file, Line: line}
}

// lineCol turns PostgreSQL's error position (1-based, in characters) into
// the file's line and column; false when it points past the file (into
// the record).
func lineCol(file []byte, pos int) (line, col uint, ok bool) {
	runes := []rune(strings.ReplaceAll(string(file), "\r\n", "\n"))
	if pos < 1 || pos > len(runes) {
		return 0, 0, false
	}
	line, last := uint(1), -1
	for i, r := range runes[:pos] {
		if r == '\n' {
			line++
			last = i
		}
	}
	return line, uint(pos - 1 - last), true
}

// unwrap returns the file ready to run with its record in one transaction:
// unchanged, or with a plain BEGIN; ... COMMIT; wrapper blanked out. Any
// other transaction control is ErrNotAtomic.
func unwrap(file []byte) ([]byte, error) {
	sts := sqlscan.Split(file, sqlscan.PostgreSQL)
	var control []int
	for i, st := range sts {
		if txControl(st.Words) {
			control = append(control, i)
		}
	}
	if len(control) == 0 {
		return file, nil
	}
	first, last := sts[0], sts[len(sts)-1]
	if len(control) == 2 && control[0] == 0 && control[1] == len(sts)-1 && plainBegin(first.Words) && plainCommit(last.Words) {
		out := append([]byte(nil), file...)
		for _, st := range []sqlscan.Statement{first, last} {
			for i := st.Start; i < st.End; i++ {
				if out[i] != '\n' {
					out[i] = ' '
				}
			}
		}
		return out, nil
	}
	st := sts[control[0]]
	return nil, fmt.Errorf("%w: line %d, %s, controls the transaction itself (only a plain BEGIN; first and COMMIT; last can be folded into relkit's)", dbdriver.ErrNotAtomic, st.Line, strings.Join(st.Words, " "))
}

// txControl reports whether a statement starting with words begins, ends
// or prepares a transaction. SAVEPOINT, RELEASE and ROLLBACK TO stay inside
// one.
func txControl(words []string) bool {
	if len(words) == 0 {
		return false
	}
	switch words[0] {
	case "BEGIN", "START", "COMMIT", "END", "ABORT":
		return true
	case "ROLLBACK":
		return len(words) < 2 || words[1] != "TO" && !(len(words) > 2 && words[2] == "TO")
	case "PREPARE":
		return len(words) > 1 && words[1] == "TRANSACTION"
	}
	return false
}

func plainBegin(w []string) bool {
	switch {
	case len(w) == 1 && w[0] == "BEGIN":
		return true
	case len(w) == 2 && w[0] == "BEGIN" && (w[1] == "WORK" || w[1] == "TRANSACTION"):
		return true
	}
	return len(w) == 2 && w[0] == "START" && w[1] == "TRANSACTION"
}

func plainCommit(w []string) bool {
	if len(w) == 0 || w[0] != "COMMIT" && w[0] != "END" {
		return false
	}
	return len(w) == 1 || len(w) == 2 && (w[1] == "WORK" || w[1] == "TRANSACTION")
}

func (s *session) Close() error {
	s.conn.Close()
	return s.db.Close()
}
