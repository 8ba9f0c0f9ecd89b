package migrate_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/relkit/relkit/internal/testkit/testdb"
	"github.com/relkit/relkit/migrate"
	_ "github.com/relkit/relkit/migrate/mysql"
	_ "github.com/relkit/relkit/migrate/postgres"
	_ "github.com/relkit/relkit/migrate/sqlite"
)

// files builds a migrations FS from name/content pairs.
func files(kv ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
	}
	return m
}

// items is a three-migration set every engine runs: a table, a row in it,
// a second table.
func items() fstest.MapFS {
	return files(
		"001_create_items.up.sql", "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50));",
		"001_create_items.down.sql", "DROP TABLE items;",
		"002_seed_item.up.sql", "INSERT INTO items (id, name) VALUES (1, 'first');",
		"002_seed_item.down.sql", "DELETE FROM items WHERE id = 1;",
		"003_create_tags.up.sql", "CREATE TABLE tags (id INTEGER PRIMARY KEY);\nCREATE TABLE item_tags (item_id INTEGER, tag_id INTEGER);",
		"003_create_tags.down.sql", "DROP TABLE item_tags;\nDROP TABLE tags;",
	)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newMigrator(t *testing.T, fsys fs.FS, url string, opts migrate.Options) *migrate.Migrator {
	t.Helper()
	m, err := migrate.New(fsys, url, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

func openDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := migrate.OpenDB(ctxT(t), url)
	if err != nil {
		t.Fatalf("OpenDB: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// tables lists which of names exist, as "a,b".
func tables(t *testing.T, db *sql.DB, names ...string) string {
	t.Helper()
	var have []string
	for _, n := range names {
		if _, err := db.Exec("SELECT 1 FROM " + n + " WHERE 1 = 0"); err == nil {
			have = append(have, n)
		}
	}
	return strings.Join(have, ",")
}

func count(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func versions(r migrate.Result) string {
	var s []string
	for _, x := range r.Ran {
		s = append(s, fmt.Sprint(x.Version))
	}
	return strings.Join(s, ",")
}

func states(s migrate.Status) string {
	var out []string
	for _, m := range s.Migrations {
		out = append(out, fmt.Sprintf("%d:%s", m.Version, m.State))
	}
	return strings.Join(out, " ")
}

// eachEngine runs f as a parallel subtest per engine, with a fresh database.
func eachEngine(t *testing.T, f func(t *testing.T, url string)) {
	for _, e := range testdb.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			f(t, e.New(t))
		})
	}
}

func testdbSQLite(t *testing.T) string { return testdb.SQLite(t) }

// textLogger logs to w without times, for asserting on log lines.
func textLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}))
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
