package migrate_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/relkit/relkit/internal/testkit/testdb"
	"github.com/relkit/relkit/migrate"
)

// The test binary re-executed with killURLEnv set is a process running
// `links migrate` on that database with killFiles(engine, shape), which a
// test kills with SIGKILL at a chosen moment.
const (
	killURLEnv   = "RELKIT_MIGRATE_TEST_KILL_URL"
	killShapeEnv = "RELKIT_MIGRATE_TEST_KILL_SHAPE"
	killAtEnv    = "RELKIT_MIGRATE_TEST_KILL_AT" // a moment of migrate.SetTestHook to stop at
)

// killFiles has a migration that creates an account holding 100 and an
// audit table, then a data migration that doubles the balance and writes
// one audit row. Applied once, the balance is 200 and there is one row.
//
// shape makes the moment to kill at reliable, without timing: "slow-update"
// sleeps inside the UPDATE, "sleep-after" sleeps after it, before the audit
// row and the migration's record. Both show in the engine's process list
// (SQLite, which has none and no sleep, counts to a million instead, in a
// write transaction another connection sees). "quick" does not sleep.
func killFiles(engine, shape string) fstest.MapFS {
	update := "UPDATE acct SET bal = bal * 2;"
	sleep := "SELECT pg_sleep(1.5);"
	switch engine {
	case "mysql":
		sleep = "DO SLEEP(1.5);"
	case "sqlite":
		sleep = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) SELECT COUNT(*) FROM c;"
	}
	switch {
	case shape == "slow-update" && engine == "mysql":
		update, sleep = "UPDATE acct SET bal = bal * 2 WHERE SLEEP(1.5) = 0;", ""
	case shape == "slow-update":
		update, sleep = "UPDATE acct SET bal = bal * 2 FROM (SELECT pg_sleep(1.5)) AS s;", ""
	case shape == "quick":
		sleep = ""
	}
	double := update + "\n"
	if sleep != "" {
		double += sleep + "\n"
	}
	double += "INSERT INTO audit (what) VALUES ('doubled');\n"
	return files(
		"1_create_acct.up.sql", "CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER NOT NULL);\nINSERT INTO acct (id, bal) VALUES (1, 100);\nCREATE TABLE audit (what VARCHAR(20));\n",
		"1_create_acct.down.sql", "DROP TABLE audit;\nDROP TABLE acct;\n",
		"2_double.up.sql", double,
		"2_double.down.sql", "DELETE FROM audit WHERE what = 'doubled';\nUPDATE acct SET bal = bal / 2;\n",
	)
}

func killChild(url string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if at := os.Getenv(killAtEnv); at != "" {
		migrate.SetTestHook(func(moment string) {
			if moment == at {
				fmt.Println("at " + moment)
				select {} // until killed
			}
		})
	}
	m, err := migrate.New(killFiles(testdb.Scheme(url), os.Getenv(killShapeEnv)), url, migrate.Options{Command: "links", Logger: textLogger(os.Stderr)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := m.Up(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("done")
	return 0
}

// inFile reports whether the child is running the migration file, as the
// database shows it: a session of this database sleeping (PostgreSQL,
// MariaDB), or a write transaction open on the file (SQLite: another
// connection cannot begin one).
func inFile(t *testing.T, db *sql.DB, engine string) bool {
	if engine == "sqlite" {
		_, err := db.Exec("BEGIN IMMEDIATE")
		if err == nil {
			db.Exec("ROLLBACK")
			return false
		}
		if !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "busy") {
			t.Fatalf("BEGIN IMMEDIATE: %v", err)
		}
		return true
	}
	q := "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'"
	if engine == "mysql" {
		q = "SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE() AND state = 'User sleep'"
	}
	return count(t, db, q) > 0
}

// killAt runs a child migrating url and kills it with SIGKILL once
// reached reports true, given each line the child prints ("at MOMENT"
// when it stops at the moment named by at) and "" every 5ms. It fails the
// test if the child ends first.
func killAt(t *testing.T, url, shape, at string, reached func(line string) bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killURLEnv+"="+url, killShapeEnv+"="+shape, killAtEnv+"="+at)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, stdout)
	}()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for done := false; !done; {
		select {
		case line, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("the child finished before the moment to kill it; stderr:\n%s", stderr.String())
			}
			done = reached(line)
		case <-tick.C:
			done = reached("")
		case <-deadline:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the moment to kill the child never came; stderr:\n%s", stderr.String())
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	go func() {
		for range lines {
		}
	}()
	t.Logf("killed the child; its stderr:\n%s", stderr.String())
}

// effects reports, for the test's data migration, which statements took
// effect: the UPDATE (balance 200; 400 means applied twice) and the
// audit INSERT.
type effects struct{ bal, audit int }

func readEffects(t *testing.T, db *sql.DB) effects {
	return effects{bal: count(t, db, "SELECT bal FROM acct WHERE id = 1"), audit: count(t, db, "SELECT COUNT(*) FROM audit")}
}

var (
	adviceCmd  = regexp.MustCompile(`^\tlinks (.+)$`)
	adviceStmt = regexp.MustCompile(`^\tline \d+: (.+)$`)
)

// advice splits a dirty database's message into its branches: the
// commands to run if all, none or some of the file's statements took
// effect ("" holds the commands of a message without branches), and the
// statements it lists.
func advice(msg string) (branches map[string][]string, stmts []string) {
	branches = map[string][]string{}
	branch := ""
	for _, line := range strings.Split(msg, "\n") {
		switch {
		case strings.HasPrefix(line, "If all of them took effect"):
			branch = "all"
		case strings.HasPrefix(line, "If none did"):
			branch = "none"
		case strings.HasPrefix(line, "If only some did"):
			branch = "some"
		}
		if m := adviceCmd.FindStringSubmatch(line); m != nil {
			branches[branch] = append(branches[branch], m[1])
		}
		if m := adviceStmt.FindStringSubmatch(line); m != nil {
			stmts = append(stmts, m[1])
		}
	}
	return branches, stmts
}

// operate does what an operator does after a crash: run migrate, and when
// it reports a dirty database, look at the data, follow the advice for
// what is found, and run migrate again, until it succeeds.
func operate(t *testing.T, fsys fstest.MapFS, url string, db *sql.DB) {
	t.Helper()
	ctx := ctxT(t)
	m := newMigrator(t, fsys, url, migrate.Options{Command: "links", LockTimeout: 30 * time.Second})
	for range 5 {
		_, err := m.Up(ctx)
		if err == nil {
			return
		}
		if !errors.Is(err, migrate.ErrDirty) {
			t.Fatalf("migrate after the kill: %v", err)
		}
		msg := err.Error()
		t.Logf("migrate after the kill says:\n%s", msg)
		for _, claim := range []string{"rolled", "failed in an earlier run", "the failing one"} {
			if strings.Contains(msg, claim) {
				t.Errorf("the advice claims what nobody verified (%q): the run was killed, its outcome is unknown:\n%s", claim, msg)
			}
		}
		branches, stmts := advice(msg)
		e := readEffects(t, db)
		branch := ""
		if len(branches) > 1 || branches[""] == nil {
			switch {
			case e.bal == 200 && e.audit == 1:
				branch = "all"
			case e.bal == 100 && e.audit == 0:
				branch = "none"
			default:
				branch = "some"
				// Run by hand the listed statements that did not take effect.
				for _, s := range stmts {
					did := strings.HasPrefix(s, "UPDATE") && e.bal == 200 || strings.HasPrefix(s, "INSERT") && e.audit == 1
					if strings.Contains(s, "SLEEP") || strings.Contains(s, "sleep") || did {
						continue
					}
					if _, err := db.Exec(s); err != nil {
						t.Fatalf("running %q by hand, as advised: %v", s, err)
					}
				}
			}
			t.Logf("found balance %d, %d audit rows: following %q", e.bal, e.audit, branch)
		}
		cmds := branches[branch]
		if len(cmds) == 0 {
			t.Fatalf("no command to run when %q of the statements took effect, in:\n%s", branch, msg)
		}
		for _, c := range cmds {
			run(t, m, c)
		}
	}
	t.Fatalf("migrate still fails after following its advice 5 times")
}

// run runs one printed command: "migrate", "migrate force V" or "rollback".
func run(t *testing.T, m *migrate.Migrator, c string) {
	t.Helper()
	ctx := ctxT(t)
	f := strings.Fields(c)
	var err error
	switch {
	case c == "migrate":
		_, err = m.Up(ctx)
	case c == "rollback":
		_, err = m.Rollback(ctx, migrate.RollbackOptions{})
	case len(f) == 3 && f[0] == "migrate" && f[1] == "force":
		v := migrate.NilVersion
		if f[2] != "none" {
			if v, err = strconv.Atoi(f[2]); err != nil {
				t.Fatalf("printed command %q: %v", c, err)
			}
		}
		err = m.Force(ctx, v)
	default:
		t.Fatalf("printed command %q is not one the test knows", c)
	}
	if err != nil && !errors.Is(err, migrate.ErrDirty) {
		t.Fatalf("printed command %q: %v", c, err)
	}
}

// A migrate process killed with SIGKILL at any moment of a data migration:
// following what migrate prints afterwards ends with the migration applied
// exactly once (the balance doubled once). Moments are found in the
// database (the file running: the server keeps running it after the
// client died, and PostgreSQL commits it) or at the engine's hooks
// (before the file, after the file but before its record, after the
// record).
func TestKilledRunAppliesEachMigrationOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		engine, shape, at string // at "": when the database shows the file running
	}{
		{"postgres", "slow-update", ""},
		{"postgres", "sleep-after", ""},
		{"postgres", "quick", "before-file"},
		{"postgres", "quick", "after-record"},
		{"mysql", "slow-update", ""},
		{"mysql", "sleep-after", ""},
		{"mysql", "quick", "before-file"},
		{"mysql", "quick", "after-file"},
		{"mysql", "quick", "after-record"},
		{"sqlite", "sleep-after", ""},
		{"sqlite", "quick", "before-file"},
		{"sqlite", "quick", "after-record"},
	} {
		name := tc.engine + "/" + tc.shape
		if tc.at != "" {
			name = tc.engine + "/" + tc.at
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url := map[string]func(testing.TB) string{"postgres": testdb.Postgres, "mysql": testdb.MySQL, "sqlite": testdb.SQLite}[tc.engine](t)
			db := openDB(t, url)
			probe := db
			if tc.engine == "sqlite" {
				probe = openDB(t, url+"?_pragma=busy_timeout(0)")
			}
			fsys := killFiles(tc.engine, tc.shape)
			first := fstest.MapFS{"1_create_acct.up.sql": fsys["1_create_acct.up.sql"]}
			if _, err := newMigrator(t, first, url, migrate.Options{}).Up(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			killAt(t, url, tc.shape, tc.at, func(line string) bool {
				if tc.at != "" {
					return line == "at "+tc.at
				}
				return inFile(t, probe, tc.engine)
			})
			operate(t, fsys, url, db)
			if got := readEffects(t, db); got != (effects{bal: 200, audit: 1}) {
				t.Errorf("after following the advice: balance %d and %d audit rows, want 200 and 1 (the migration applied exactly once)", got.bal, got.audit)
			}
			st, err := newMigrator(t, fsys, url, migrate.Options{}).Status(ctxT(t))
			if err != nil || st.Dirty || st.Version != 2 || states(st) != "1:applied 2:applied" {
				t.Errorf("status after recovery: %+v (%v), want clean at 2", st, err)
			}
		})
	}
}

// A dirty flag left by another tool (golang-migrate's CLI marks the version
// dirty, then runs the file), with none, some or all of the file's
// statements applied: on every engine the advice never claims to know,
// lists the statements, and following it for what is found applies the
// migration exactly once.
func TestDirtyFlagOfAnotherToolRecoversForEachOutcome(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines() {
		for _, outcome := range []string{"none", "some", "all"} {
			t.Run(e.Name+"/"+outcome, func(t *testing.T) {
				t.Parallel()
				url := e.New(t)
				db := openDB(t, url)
				fsys := killFiles(e.Name, "quick")
				first := fstest.MapFS{"1_create_acct.up.sql": fsys["1_create_acct.up.sql"]}
				if _, err := newMigrator(t, first, url, migrate.Options{}).Up(ctxT(t)); err != nil {
					t.Fatal(err)
				}
				dirty := map[string]string{"postgres": "true"}[e.Name]
				if dirty == "" {
					dirty = "1"
				}
				stmts := []string{"DELETE FROM schema_migrations", "INSERT INTO schema_migrations (version, dirty) VALUES (2, " + dirty + ")"}
				switch outcome {
				case "some":
					stmts = append(stmts, "UPDATE acct SET bal = bal * 2")
				case "all":
					stmts = append(stmts, "UPDATE acct SET bal = bal * 2", "INSERT INTO audit (what) VALUES ('doubled')")
				}
				for _, s := range stmts {
					if _, err := db.Exec(s); err != nil {
						t.Fatalf("%s: %v", s, err)
					}
				}
				operate(t, fsys, url, db)
				if got := readEffects(t, db); got != (effects{bal: 200, audit: 1}) {
					t.Errorf("after following the advice: balance %d and %d audit rows, want 200 and 1", got.bal, got.audit)
				}
				st, err := newMigrator(t, fsys, url, migrate.Options{}).Status(ctxT(t))
				if err != nil || st.Dirty || st.Version != 2 || states(st) != "1:applied 2:applied" {
					t.Errorf("status after recovery: %+v (%v), want clean at 2", st, err)
				}
			})
		}
	}
}
