// Package testdb gives each test a fresh database on the real engines:
// PostgreSQL and MariaDB/MySQL on 127.0.0.1 (URLs overridable with
// RELKIT_TEST_POSTGRES_URL and RELKIT_TEST_MYSQL_URL) and SQLite in a
// temporary directory. A test whose server is unreachable is skipped with
// the reason, or fails when CI=true.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/lib/pq"
	"github.com/relkit/relkit/internal/testkit"
)

// Default server URLs: this machine's services (trust auth, database test).
const (
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultMySQLURL    = "mysql://root@127.0.0.1:3306/test"
)

// Engine names a database engine under test and makes fresh databases on it.
type Engine struct {
	Name string
	// New returns the URL of a fresh, empty database dropped at the end of
	// the test.
	New func(t testing.TB) string
}

// Engines returns SQLite, PostgreSQL and MySQL.
func Engines() []Engine {
	return []Engine{{"sqlite", SQLite}, {"postgres", Postgres}, {"mysql", MySQL}}
}

// SQLite returns sqlite://PATH for a new file in t.TempDir().
func SQLite(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
}

func name() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "relkit_test_" + hex.EncodeToString(b)
}

func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Postgres creates a database on the PostgreSQL server and returns its URL.
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv("RELKIT_TEST_POSTGRES_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("RELKIT_TEST_POSTGRES_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		testkit.Unavailable(t, "PostgreSQL unreachable at %s (set RELKIT_TEST_POSTGRES_URL): %v", redacted(base), err)
	}
	db := name()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(db)); err != nil {
		admin.Close()
		t.Fatalf("create PostgreSQL database %s: %v", db, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(db)+" WITH (FORCE)"); err != nil {
			t.Errorf("drop PostgreSQL database %s: %v", db, err)
		}
	})
	u, _ := url.Parse(base)
	u.Path = "/" + db
	return u.String()
}

// MySQL creates a database on the MySQL/MariaDB server and returns its URL.
func MySQL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("RELKIT_TEST_MYSQL_URL")
	if base == "" {
		base = DefaultMySQLURL
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "mysql" {
		t.Fatalf("RELKIT_TEST_MYSQL_URL: want mysql://USER:PASSWORD@HOST:PORT/DATABASE")
	}
	cfg := gomysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr = "tcp", u.Host
	conn, err := gomysql.NewConnector(cfg)
	if err != nil {
		t.Fatalf("RELKIT_TEST_MYSQL_URL: %v", err)
	}
	admin := sql.OpenDB(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		testkit.Unavailable(t, "MySQL unreachable at %s (set RELKIT_TEST_MYSQL_URL): %v", redacted(base), err)
	}
	db := name()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+db+"`"); err != nil {
		admin.Close()
		t.Fatalf("create MySQL database %s: %v", db, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+db+"`"); err != nil {
			t.Errorf("drop MySQL database %s: %v", db, err)
		}
	})
	u.Path = "/" + db
	return u.String()
}

// Scheme returns the engine name for a URL: "sqlite", "postgres", "mysql".
func Scheme(rawURL string) string {
	s, _, _ := strings.Cut(rawURL, "://")
	switch s {
	case "postgresql", "ecto":
		return "postgres"
	case "sqlite3":
		return "sqlite"
	}
	return s
}

// Must fails t on err, saying what was being done.
func Must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
