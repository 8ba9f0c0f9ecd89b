package migrate_test

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/relkit/relkit/internal/testkit/testdb"
	"github.com/relkit/relkit/migrate"
)

// broken fails on its third line, after a statement that MySQL commits.
const broken = "CREATE TABLE t2 (id INTEGER);\nINSERT INTO t2 (id) VALUES (1);\nCREATE TABLE t3 (id INTEGER,);\n"

var forceCmd = regexp.MustCompile(`(?m)^\tlinks migrate force (\S+)$`)

// recoverWith runs the force command a DirtyError printed.
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

func TestFailingMigrationLeavesDirtyAndRecovers(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, url string) {
		ctx := ctxT(t)
		engine := testdb.Scheme(url)
		fsys := files(
			"001_create_t1.up.sql", "CREATE TABLE t1 (id INTEGER);",
			"001_create_t1.down.sql", "DROP TABLE t1;",
			"002_broken.up.sql", broken,
			"002_broken.down.sql", "DROP TABLE t3;\nDROP TABLE t2;",
		)
		m := newMigrator(t, fsys, url, migrate.Options{Command: "links"})
		db := openDB(t, url)

		_, err := m.Up(ctx)
		var de *migrate.DirtyError
		if !errors.As(err, &de) || !errors.Is(err, migrate.ErrDirty) {
			t.Fatalf("Up = %v, want a *DirtyError", err)
		}
		first, msg := err, err.Error()
		if !strings.HasPrefix(msg, "migrate: 002_broken.up.sql failed") {
			t.Errorf("message does not name the file first:\n%s", msg)
		}
		if de.Version != 2 || de.Failed == nil || de.Failed.Version != 2 || de.Down || de.Cause == nil {
			t.Errorf("DirtyError = %+v, want version 2, failed 002 up, with a cause", de)
		}
		wantLine := map[string]int{"postgres": 3, "sqlite": 0, "mysql": 0}[engine]
		if de.Line != wantLine {
			t.Errorf("line %d, want %d (message: %s)", de.Line, wantLine, msg)
		}
		wantRolledBack := engine != "mysql"
		if de.RolledBack != wantRolledBack {
			t.Errorf("RolledBack = %v, want %v", de.RolledBack, wantRolledBack)
		}
		if got := tables(t, db, "t1", "t2", "t3"); wantRolledBack && got != "t1" || !wantRolledBack && got != "t1,t2" {
			t.Errorf("tables after the failure: %q", got)
		}
		if wantRolledBack {
			if !strings.Contains(msg, "nothing from it is applied") || !strings.Contains(msg, "\tlinks migrate force 1\nthen fix 002_broken.up.sql and run\n\tlinks migrate") {
				t.Errorf("message lacks the transactional recovery:\n%s", msg)
			}
		} else if !strings.Contains(msg, "were applied and stay applied") || !strings.Contains(msg, "\tlinks migrate force 1\n") || !strings.Contains(msg, "\tlinks migrate force 2") {
			t.Errorf("message lacks the partial-application recovery:\n%s", msg)
		}

		// A later run, by any process, still refuses and says why.
		m2 := newMigrator(t, fsys, url, migrate.Options{Command: "links"})
		_, err2 := m2.Up(ctx)
		if !errors.Is(err2, migrate.ErrDirty) || !strings.HasPrefix(err2.Error(), "migrate: database is dirty at version 2: 002_broken.up.sql failed in an earlier run") {
			t.Fatalf("second Up = %v, want the dirty state explained", err2)
		}
		if forceCmd.FindString(err2.Error()) != forceCmd.FindString(msg) {
			t.Errorf("second run prints another recovery command:\n%s\nthan the first:\n%s", err2, msg)
		}
		st, err := m2.Status(ctx)
		if err != nil || !st.Dirty || st.Version != 2 || states(st) != "1:applied 2:failed" {
			t.Errorf("Status = %+v (%v), want dirty at 2 with 002 failed", st, err)
		}

		// Recover as printed: MySQL first needs the half-applied part undone.
		if !wantRolledBack {
			if _, err := db.Exec("DROP TABLE t2"); err != nil {
				t.Fatal(err)
			}
		}
		recoverWith(t, m2, first)
		fsys["002_broken.up.sql"].Data = []byte(strings.Replace(broken, "INTEGER,)", "INTEGER)", 1))
		m3 := newMigrator(t, fsys, url, migrate.Options{Command: "links"})
		res, err := m3.Up(ctx)
		if err != nil || versions(res) != "2" {
			t.Fatalf("Up after recovery ran %q: %v, want 2", versions(res), err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM t2"); n != 1 {
			t.Errorf("t2 has %d rows, want 1", n)
		}

		// A failing down file: the rollback is dirty too, and recovers.
		fsys["002_broken.down.sql"].Data = []byte("DROP TABLE t3;\nDROP TABLE nope;\nDROP TABLE t2;")
		m4 := newMigrator(t, fsys, url, migrate.Options{Command: "links"})
		_, err = m4.Rollback(ctx, migrate.RollbackOptions{})
		first = err
		if !errors.As(err, &de) || !de.Down || de.Version != 1 {
			t.Fatalf("Rollback = %v, want a dirty down at version 1", err)
		}
		if !strings.HasPrefix(err.Error(), "migrate: 002_broken.down.sql failed") {
			t.Errorf("message does not name the down file:\n%s", err)
		}
		_, err2 = newMigrator(t, fsys, url, migrate.Options{Command: "links"}).Up(ctx)
		if !errors.Is(err2, migrate.ErrDirty) || !strings.Contains(err2.Error(), "002_broken.down.sql failed in an earlier run") {
			t.Errorf("Up after a failed down = %v, want it to name the down file", err2)
		}
		if wantRolledBack {
			recoverWith(t, m4, first)
			st, err := m4.Status(ctx)
			if err != nil || st.Dirty || st.Version != 2 || tables(t, db, "t1", "t2", "t3") != "t1,t2,t3" {
				t.Errorf("after forcing back: %+v (%v), want clean at 2 with t3 intact", st, err)
			}
		}
	})
}
