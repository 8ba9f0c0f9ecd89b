package migrate_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
	"github.com/relkit/relkit/internal/testkit/testdb"
	"github.com/relkit/relkit/migrate"
)

const outsideTx = "migration runs outside a transaction with its record"

// Which PostgreSQL files run in one transaction with their record: a plain
// BEGIN; ... COMMIT; wrapper is folded into relkit's transaction (a failure
// is rolled back, lines still count from the file); any other transaction
// control, a statement that cannot run in a transaction, or
// x-multi-statement=true runs the file on its own, with a warning, and a
// failure leaves the database dirty.
func TestPostgresFilesInOrOutOfTheTransaction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, params string
		atomic, quiet      bool
		wantErr            string // "" for success; else the error must contain it
	}{
		{name: "plain", file: "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);", atomic: true},
		{name: "wrapped", file: "BEGIN;\nCREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nCOMMIT;\n", atomic: true},
		{name: "wrapped, failing", file: "BEGIN;\nCREATE TABLE a (id int);\nINSERT INTO a VALUES ('x');\nCOMMIT;\n", atomic: true,
			wantErr: "2_b.up.sql failed at line 3: invalid input syntax for type integer: \"x\""},
		{name: "start transaction and end", file: "START TRANSACTION;\nCREATE TABLE a (id int);\nEND;", atomic: true},
		{name: "function with BEGIN ATOMIC", file: "CREATE FUNCTION one() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\nEND;\nCREATE TABLE a (id int);", atomic: true},
		{name: "plpgsql body", file: "CREATE FUNCTION two() RETURNS int AS $$\nBEGIN\n  RETURN 2;\nEND;\n$$ LANGUAGE plpgsql;\nCREATE TABLE a (id int);", atomic: true},
		{name: "commit in the middle", file: "CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);", atomic: false},
		{name: "commit in the middle, failing", file: "CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int,);", atomic: false,
			wantErr: "ran 2_b.up.sql outside a transaction with its record (line 2, COMMIT, controls the transaction itself"},
		{name: "isolation level", file: "BEGIN ISOLATION LEVEL SERIALIZABLE;\nCREATE TABLE a (id int);\nCOMMIT;", atomic: false},
		{name: "create index concurrently", file: "CREATE INDEX CONCURRENTLY t_id ON t (id);", atomic: false},
		// The URL turns transactions off for every file: no warning each time.
		{name: "x-multi-statement", file: "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1,);", params: "&x-multi-statement=true", atomic: false, quiet: true,
			wantErr: "x-multi-statement=true runs a file statement by statement"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := testdb.Postgres(t) + tc.params
			log := &testkit.Buffer{}
			fsys := files("1_t.up.sql", "CREATE TABLE t (id int);", "2_b.up.sql", tc.file)
			m := newMigrator(t, fsys, url, migrate.Options{Command: "links", Logger: textLogger(log)})
			_, err := m.Up(ctxT(t))
			if got := strings.Contains(log.String(), outsideTx); got != (!tc.atomic && !tc.quiet) {
				t.Errorf("warned that the file runs outside a transaction: %v, want %v; log:\n%s", got, !tc.atomic && !tc.quiet, log)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Up: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Up = %v, want an error containing %q", err, tc.wantErr)
			}
			if want := map[bool]error{true: migrate.ErrFailed, false: migrate.ErrDirty}[tc.atomic]; !errors.Is(err, want) {
				t.Errorf("Up = %v, want it to match %v", err, want)
			}
			st, serr := m.Status(ctxT(t))
			if serr != nil || st.Dirty == tc.atomic {
				t.Errorf("status after the failure: dirty=%v (%v), want dirty=%v", st.Dirty, serr, !tc.atomic)
			}
		})
	}
}

// A second process that finds an SQLite database being migrated waits for
// the lock file, and when the lock timeout runs out says which process
// holds it; once that process is gone (even by SIGKILL) the lock is free.
func TestSQLiteLockFileNamesTheHolder(t *testing.T) {
	t.Parallel()
	url := testdb.SQLite(t)
	fsys := killFiles("sqlite", "quick")
	first := files("1_create_acct.up.sql", string(fsys["1_create_acct.up.sql"].Data))
	if _, err := newMigrator(t, first, url, migrate.Options{}).Up(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// The child stops holding the lock, before the file, and is killed
	// there: then the lock must be free, and nothing applied.
	m := newMigrator(t, fsys, url, migrate.Options{LockTimeout: 300 * time.Millisecond})
	killAt(t, url, "quick", "before-file", func(line string) bool {
		if line != "at before-file" {
			return false
		}
		_, err := m.Up(ctxT(t))
		if !errors.Is(err, migrate.ErrLockTimeout) {
			t.Errorf("Up while another process migrates = %v, want ErrLockTimeout", err)
		} else if want := "SQLite did not grant the migration lock within 300ms: " + strings.TrimPrefix(url, "sqlite://") + "-migrate.lock is locked by process "; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "(another migration run)") {
			t.Errorf("message:\n%v\nwant it to contain %q and the holder's PID", err, want)
		}
		return true
	})
	res, err := m.Up(ctxT(t))
	if err != nil || versions(res) != "2" {
		t.Fatalf("Up once the holder was killed ran %q: %v", versions(res), err)
	}
	if got := readEffects(t, openDB(t, url)); got != (effects{bal: 200, audit: 1}) {
		t.Errorf("balance %d and %d audit rows, want 200 and 1", got.bal, got.audit)
	}
}
