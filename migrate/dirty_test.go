package migrate_test

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/relkit/relkit/internal/testkit/testdb"
	"github.com/relkit/relkit/migrate"
)

// broken fails on its third line, after a statement that MySQL commits.
const broken = "CREATE TABLE t2 (id INTEGER);\nINSERT INTO t2 (id) VALUES (1);\nCREATE TABLE t3 (id INTEGER,);\n"

var forceCmd = regexp.MustCompile(`(?m)^\tlinks migrate force (\S+)$`)

// recoverWith runs the first force command a DirtyError printed.
func recoverWith(t *testing.T, m *migrate.Migrator, err error) {
	t.Helper()
	cmds := forceCmd.FindAllStringSubmatch(err.Error(), -1)
	if len(cmds) == 0 {
		t.Fatalf("no recovery command in:\n%v", err)
	}
	v := migrate.NilVersion
	if cmds[0][1] != "none" {
		n, perr := strconv.Atoi(cmds[0][1])
		if perr != nil {
			t.Fatalf("recovery command %q: %v", cmds[0][0], perr)
		}
		v = n
	}
	if err := m.Force(ctxT(t), v); err != nil {
		t.Fatalf("running the printed %q: %v", strings.TrimSpace(cmds[0][0]), err)
	}
}

func brokenFiles() map[string]string {
	return map[string]string{
		"001_create_t1.up.sql":   "CREATE TABLE t1 (id INTEGER);",
		"001_create_t1.down.sql": "DROP TABLE t1;",
		"002_broken.up.sql":      broken,
		"002_broken.down.sql":    "DROP TABLE t3;\nDROP TABLE t2;",
	}
}

// On PostgreSQL and SQLite a failing file is rolled back with its record:
// the database stays clean at the version before it, the error says so
// and needs no force, and running migrate again after fixing the file
// applies it. Each run that meets the broken file says why it fails.
func TestFailingMigrationIsRolledBackWithItsRecord(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, url string) {
		engine := testdb.Scheme(url)
		if engine == "mysql" {
			t.Skip("MySQL commits statement by statement: TestFailingMigrationOnMySQLLeavesDirty")
		}
		ctx := ctxT(t)
		fsys := files()
		for k, v := range brokenFiles() {
			fsys[k] = &fstest.MapFile{Data: []byte(v)}
		}
		m := newMigrator(t, fsys, url, migrate.Options{Command: "links"})
		db := openDB(t, url)

		for run := 1; run <= 2; run++ {
			res, err := m.Up(ctx)
			var fe *migrate.FailedError
			if !errors.As(err, &fe) || !errors.Is(err, migrate.ErrFailed) || errors.Is(err, migrate.ErrDirty) {
				t.Fatalf("run %d: Up = %v, want a *FailedError", run, err)
			}
			if run == 1 && versions(res) != "1" {
				t.Errorf("Up ran %q before failing, want 1", versions(res))
			}
			wantLine := map[string]int{"postgres": 3, "sqlite": 0}[engine]
			if fe.Migration.Version != 2 || fe.Down || fe.Lost || fe.Line != wantLine || fe.Version != 1 || fe.Cause == nil {
				t.Errorf("FailedError = %+v, want 002 up at line %d, database at 1", fe, wantLine)
			}
			cause := map[string]string{
				"postgres": "migrate: 002_broken.up.sql failed at line 3: syntax error at or near \")\" (column 29)\nPostgreSQL",
				"sqlite":   "migrate: 002_broken.up.sql failed: SQL logic error: near \")\": syntax error (1)\nSQLite",
			}[engine]
			want := cause + " rolled 002_broken.up.sql back with its record: nothing from it is applied, and the database is still at version 1, clean. Fix 002_broken.up.sql and run\n\tlinks migrate"
			if err.Error() != want {
				t.Errorf("run %d: message\n got %s\nwant %s", run, err, want)
			}
			if got := tables(t, db, "t1", "t2", "t3"); got != "t1" {
				t.Errorf("tables after the failure: %q, want t1 only", got)
			}
			st, err := m.Status(ctx)
			if err != nil || st.Dirty || st.Version != 1 || states(st) != "1:applied 2:pending" || st.Err() != nil {
				t.Errorf("Status = %+v (%v), want clean at 1 with 002 pending", st, err)
			}
		}

		fsys["002_broken.up.sql"].Data = []byte(strings.Replace(broken, "INTEGER,)", "INTEGER)", 1))
		res, err := newMigrator(t, fsys, url, migrate.Options{Command: "links"}).Up(ctx)
		if err != nil || versions(res) != "2" {
			t.Fatalf("Up after the fix ran %q: %v, want 2", versions(res), err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM t2"); n != 1 {
			t.Errorf("t2 has %d rows, want 1", n)
		}

		// A failing down file is rolled back too: 002 stays applied.
		fsys["002_broken.down.sql"].Data = []byte("DROP TABLE t3;\nDROP TABLE nope;\nDROP TABLE t2;")
		m = newMigrator(t, fsys, url, migrate.Options{Command: "links"})
		_, err = m.Rollback(ctx, migrate.RollbackOptions{})
		var fe *migrate.FailedError
		if !errors.As(err, &fe) || !fe.Down || fe.Version != 2 {
			t.Fatalf("Rollback = %v, want a failed down with the database at 2", err)
		}
		if !strings.HasPrefix(err.Error(), "migrate: 002_broken.down.sql failed") || !strings.Contains(err.Error(), "002_broken is still applied, and the database is still at version 2, clean") {
			t.Errorf("message:\n%s", err)
		}
		st, err := m.Status(ctx)
		if err != nil || st.Dirty || st.Version != 2 || tables(t, db, "t1", "t2", "t3") != "t1,t2,t3" {
			t.Errorf("after the failed down: %+v (%v), want clean at 2 with t3 intact", st, err)
		}
		fsys["002_broken.down.sql"].Data = []byte("DROP TABLE t3;\nDROP TABLE t2;")
		if res, err := newMigrator(t, fsys, url, migrate.Options{}).Rollback(ctx, migrate.RollbackOptions{}); err != nil || versions(res) != "2" {
			t.Errorf("Rollback after fixing the down file ran %q: %v", versions(res), err)
		}
	})
}

// On MySQL a failing file leaves what it committed: the database is marked
// dirty, the message says which statements took effect, and the printed
// recovery works.
func TestFailingMigrationOnMySQLLeavesDirty(t *testing.T) {
	t.Parallel()
	url := testdb.MySQL(t)
	ctx := ctxT(t)
	fsys := files()
	for k, v := range brokenFiles() {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	m := newMigrator(t, fsys, url, migrate.Options{Command: "links"})
	db := openDB(t, url)

	_, err := m.Up(ctx)
	var de *migrate.DirtyError
	if !errors.As(err, &de) || !errors.Is(err, migrate.ErrDirty) {
		t.Fatalf("Up = %v, want a *DirtyError", err)
	}
	first, msg := err, err.Error()
	if !strings.HasPrefix(msg, "migrate: 002_broken.up.sql failed: ") {
		t.Errorf("message does not name the file first:\n%s", msg)
	}
	if de.Version != 2 || de.Failed == nil || de.Failed.Version != 2 || de.Down || de.Cause == nil || de.Line != 0 {
		t.Errorf("DirtyError = %+v, want version 2, failed 002 up, with a cause", de)
	}
	if de.ForceIfApplied() != 2 || de.ForceIfNotApplied() != 1 {
		t.Errorf("ForceIfApplied %d, ForceIfNotApplied %d; want 2, 1", de.ForceIfApplied(), de.ForceIfNotApplied())
	}
	if got := tables(t, db, "t1", "t2", "t3"); got != "t1,t2" {
		t.Errorf("tables after the failure: %q, want t1,t2", got)
	}
	if !strings.Contains(msg, "the statements of 002_broken.up.sql before the failing one took effect and stay") || !strings.Contains(msg, "\tlinks migrate force 1\n") || !strings.Contains(msg, "\tlinks migrate force 2") || strings.Contains(msg, "rolled") {
		t.Errorf("message lacks the partial-application recovery:\n%s", msg)
	}

	// A later run, by any process, refuses, and cannot know how far the
	// file got: it lists the statements and a command per outcome.
	m2 := newMigrator(t, fsys, url, migrate.Options{Command: "links"})
	_, err2 := m2.Up(ctx)
	want := "migrate: database is dirty at version 2: 002_broken.up.sql was started but its end was never recorded: the run that started it failed or was stopped (this process, another one, or another tool such as golang-migrate's CLI).\n" +
		"Whether its changes are in the database is not known. MySQL commits each statement as it runs, so those that took effect are the first ones, in order.\n" +
		"Look in the database for the effect of each statement of 002_broken.up.sql:\n" +
		"\tline 1: CREATE TABLE t2 (id INTEGER)\n" +
		"\tline 2: INSERT INTO t2 (id) VALUES (1)\n" +
		"\tline 3: CREATE TABLE t3 (id INTEGER,)\n" +
		"If all of them took effect, record the migration as applied:\n\tlinks migrate force 2\n" +
		"If none did, record the version before it and run it again:\n\tlinks migrate force 1\n\tlinks migrate\n" +
		"If only some did, run the others by hand and record the migration as applied:\n\tlinks migrate force 2\n" +
		"or undo those that did (002_broken.down.sql shows how) and do as for none."
	if !errors.Is(err2, migrate.ErrDirty) || err2.Error() != want {
		t.Fatalf("second Up:\n got %v\nwant %s", err2, want)
	}
	st, err := m2.Status(ctx)
	if err != nil || !st.Dirty || st.Version != 2 || states(st) != "1:applied 2:dirty" || !errors.Is(st.Err(), migrate.ErrDirty) {
		t.Errorf("Status = %+v (%v), want dirty at 2 with 002 dirty", st, err)
	}

	// Recover as printed: undo the half-applied part first.
	if _, err := db.Exec("DROP TABLE t2"); err != nil {
		t.Fatal(err)
	}
	recoverWith(t, m2, first)
	fsys["002_broken.up.sql"].Data = []byte(strings.Replace(broken, "INTEGER,)", "INTEGER)", 1))
	res, err := newMigrator(t, fsys, url, migrate.Options{Command: "links"}).Up(ctx)
	if err != nil || versions(res) != "2" {
		t.Fatalf("Up after recovery ran %q: %v, want 2", versions(res), err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM t2"); n != 1 {
		t.Errorf("t2 has %d rows, want 1", n)
	}

	// A failing down file: the rollback is dirty too, at the version it
	// goes to, and a later run names the down file.
	fsys["002_broken.down.sql"].Data = []byte("DROP TABLE t3;\nDROP TABLE nope;\nDROP TABLE t2;")
	m4 := newMigrator(t, fsys, url, migrate.Options{Command: "links"})
	_, err = m4.Rollback(ctx, migrate.RollbackOptions{})
	if !errors.As(err, &de) || !de.Down || de.Version != 1 || de.ForceIfApplied() != 1 || de.ForceIfNotApplied() != 2 {
		t.Fatalf("Rollback = %v, want a dirty down at version 1", err)
	}
	if !strings.HasPrefix(err.Error(), "migrate: 002_broken.down.sql failed") {
		t.Errorf("message does not name the down file:\n%s", err)
	}
	_, err2 = newMigrator(t, fsys, url, migrate.Options{Command: "links"}).Up(ctx)
	if !errors.Is(err2, migrate.ErrDirty) || !strings.Contains(err2.Error(), "002_broken.down.sql was started but its end was never recorded") ||
		!strings.Contains(err2.Error(), "If none did, 002_broken is still applied; record that and roll it back again:\n\tlinks migrate force 2\n\tlinks rollback\n") {
		t.Errorf("Up after a failed down = %v, want it to name the down file and the way back", err2)
	}
}
