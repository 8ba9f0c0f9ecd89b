package upgradetest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/migrate"
	_ "github.com/relkit/relkit/migrate/sqlite"
)

// notesV1 has migrations, a required API_TOKEN and only the SQLite driver.
var notesV1 = &build{pkg: "./internal/testkit/upgradetest/testdata/notes", version: "1.0.0"}

// errorOf returns the first error a command printed: from its "Error: "
// line to the next log line. Under the supervisor, start's output is the
// app's log lines and error, then the supervisor's.
func errorOf(stderr string) string {
	i := strings.Index(stderr, "Error: ")
	if i < 0 {
		return ""
	}
	out := stderr[i:]
	if j := strings.Index(out, "\n{"); j >= 0 {
		out = out[:j+1]
	}
	return out
}

// TestConfigRejectsTheDatabaseURLsStartRejects: a DATABASE_URL with an
// unknown scheme, with none, or with a scheme whose driver the binary does
// not link fails start and migrate with exit 78; config, the pre-flight
// every Try: line recommends, fails the same way with the same message.
func TestConfigRejectsTheDatabaseURLsStartRejects(t *testing.T) {
	t.Parallel()
	s := install(t, "notes", notesV1.get(t), "API_TOKEN=token-for-the-test")
	base := s.env
	for _, c := range []struct{ name, url, want string }{
		{"unknown scheme", "foo://app:s3cret-pass@db", `DATABASE_URL: database URL scheme "foo" is not supported`},
		{"no scheme", filepath.Join(s.root, "notes.db"), "DATABASE_URL: database URL has no scheme"},
		{"driver not linked", "postgres://app:s3cret-pass@127.0.0.1:1/notes", `DATABASE_URL: database URL scheme "postgres" needs a driver this binary does not include: add
	import _ "github.com/relkit/relkit/migrate/postgres"`},
	} {
		s.env = append(append([]string(nil), base...), "DATABASE_URL="+c.url)
		code, _, startErr := s.run("start")
		if code != 78 || !strings.Contains(startErr, c.want) {
			t.Fatalf("%s: start: want exit 78 naming %q, got %d\n%s", c.name, c.want, code, startErr)
		}
		want := errorOf(startErr)
		for _, args := range [][]string{{"migrate"}, {"config"}, {"config", "-json"}} {
			code, stdout, stderr := s.run(args...)
			if code != 78 || stderr != want {
				t.Errorf("%s: %s: want exit 78 and start's message\n%s\ngot %d\n%s", c.name, strings.Join(args, " "), want, code, stderr)
			}
			if strings.Contains(stdout+stderr, "s3cret-pass") {
				t.Errorf("%s: %s printed the database password", c.name, strings.Join(args, " "))
			}
			if args[0] == "config" && !strings.Contains(stdout, "DATABASE_URL") {
				t.Errorf("%s: %s: want the variables listed before the error, got\n%s", c.name, strings.Join(args, " "), stdout)
			}
		}
	}
	// A URL start accepts passes config.
	s.env = append(append([]string(nil), base...), "DATABASE_URL=sqlite://"+filepath.Join(s.root, "notes.db"))
	if code, _, stderr := s.run("config"); code != 0 {
		t.Errorf("config with a sqlite:// URL: want exit 0, got %d\n%s", code, stderr)
	}
}

// TestMigrationCommandsNeedOnlyTheirVariables: migrate, migrate status,
// migrate force and rollback run without API_TOKEN, a required variable of
// the app they never use, so a migration job needs none of the app's
// secrets; start and config still refuse without it.
func TestMigrationCommandsNeedOnlyTheirVariables(t *testing.T) {
	t.Parallel()
	s := install(t, "notes", notesV1.get(t))
	s.env = append(s.env, "DATABASE_URL=sqlite://"+filepath.Join(s.root, "notes.db"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate"}, "Migrated to version 2: applied 2"},
		{[]string{"migrate", "status"}, "database version: 2 (clean)"},
		{[]string{"rollback"}, "Rolled back to version 1: reverted 1"},
		{[]string{"migrate", "force", "1"}, "Database marked clean at version 1."},
		{[]string{"migrate"}, "Migrated to version 2: applied 1"},
	} {
		code, stdout, stderr := s.run(c.args...)
		if code != 0 || !strings.Contains(stdout, c.want) {
			t.Errorf("%s without API_TOKEN: want exit 0 and %q, got %d\nstdout: %s\nstderr: %s", strings.Join(c.args, " "), c.want, code, stdout, stderr)
		}
	}
	for _, args := range [][]string{{"start"}, {"config"}} {
		code, _, stderr := s.run(args...)
		if code != 78 || !strings.Contains(stderr, "API_TOKEN: required but not set") {
			t.Errorf("%s without API_TOKEN: want exit 78 naming API_TOKEN, got %d\n%s", args[0], code, stderr)
		}
	}
}

// TestMigrateStatusExitsOneOnADirtyDatabase: migrate status prints the
// table, then exits 1 (the code the README documents) with the recovery
// advice while the database is marked dirty, here by another tool.
func TestMigrateStatusExitsOneOnADirtyDatabase(t *testing.T) {
	t.Parallel()
	s := install(t, "notes", notesV1.get(t), "API_TOKEN=token-for-the-test")
	dbURL := "sqlite://" + filepath.Join(s.root, "notes.db")
	s.env = append(s.env, "DATABASE_URL="+dbURL)
	s.mustRun("migrate")
	db, err := migrate.OpenDB(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec("UPDATE schema_migrations SET dirty = 1")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := s.run("migrate", "status")
	if code != 1 || !strings.Contains(stdout, "database version: 2 (DIRTY)") || !strings.HasPrefix(stderr, "Error: migrate: database is dirty at version 2") ||
		!strings.Contains(stderr, "notes migrate force") {
		t.Errorf("migrate status on a dirty database: want exit 1, the table and the recovery advice, got %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	s.mustRun("migrate", "force", "2")
	if code, stdout, stderr := s.run("migrate", "status"); code != 0 || !strings.Contains(stdout, "database version: 2 (clean)") {
		t.Errorf("migrate status after force 2: want exit 0 and clean, got %d\n%s%s", code, stdout, stderr)
	}
}
