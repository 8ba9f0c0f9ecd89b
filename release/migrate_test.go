package release_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/relkit/relkit/internal/testkit"

	"github.com/relkit/relkit/internal/testkit/testdb"
	"github.com/relkit/relkit/migrate"
	_ "github.com/relkit/relkit/migrate/postgres"
	_ "github.com/relkit/relkit/migrate/sqlite"
	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

func shopFiles(kv ...string) fstest.MapFS {
	m := fstest.MapFS{
		"001_create_items.up.sql":   {Data: []byte("CREATE TABLE items (id INTEGER);")},
		"001_create_items.down.sql": {Data: []byte("DROP TABLE items;")},
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
	}
	return m
}

// shop is a release with migrations.
func shop(files fstest.MapFS) release.App[runtimeconfig.Base] {
	return release.App[runtimeconfig.Base]{
		Name: "shop", Version: "1.0.0", Server: true, Migrations: files,
		Handler: func(context.Context, *runtimeconfig.Base, *slog.Logger) (http.Handler, error) {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("shop\n")) }), nil
		},
	}
}

func runShop(t *testing.T, app release.App[runtimeconfig.Base], env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	// Private runtime directories: parallel tests starting "shop" must not
	// share a control socket.
	env = append(append([]string{"LOG_FORMAT=json"}, runtimeDirs(t)...), env...)
	code := app.Run(ctx, args, env, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

const broken = "CREATE TABLE t2 (id INTEGER);\nINSERT INTO t2 (id) VALUES (1);\nCREATE TABLE t3 (id INTEGER,);\n"

// A failing migration exits 1 with the recovery command, and that command,
// run as printed, recovers.
func TestMigrateFailurePrintsTheRecoveryCommand(t *testing.T) {
	t.Parallel()
	for _, e := range []testdb.Engine{{Name: "sqlite", New: testdb.SQLite}, {Name: "postgres", New: testdb.Postgres}} {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			env := []string{"DATABASE_URL=" + e.New(t)}
			app := shop(shopFiles("002_broken.up.sql", broken, "002_broken.down.sql", "DROP TABLE t3; DROP TABLE t2;"))
			code, _, stderr := runShop(t, app, env, "migrate")
			want := map[string]string{
				"sqlite":   "Error: migrate: 002_broken.up.sql failed: SQL logic error: near \")\": syntax error (1)\nSQLite",
				"postgres": "Error: migrate: 002_broken.up.sql failed at line 3: syntax error at or near \")\" (column 29)\nPostgreSQL",
			}[e.Name] + " rolled 002_broken.up.sql back with its record: nothing from it is applied, and the database is still at version 1, clean. Fix 002_broken.up.sql and run\n\tshop migrate\n"
			if code != 1 || !strings.HasSuffix(stderr, want) {
				t.Fatalf("migrate exited %d, want 1; stderr\n%s\nwant it to end with\n%s", code, stderr, want)
			}
			code, _, stderr = runShop(t, app, env, "migrate", "status")
			if code != 0 {
				t.Fatalf("migrate status exited %d: %s", code, stderr)
			}
			fixed := shop(shopFiles("002_broken.up.sql", strings.Replace(broken, "INTEGER,)", "INTEGER)", 1)))
			code, stdout, stderr := runShop(t, fixed, env, "migrate")
			if code != 0 || !strings.HasPrefix(stdout, "Migrated to version 2: applied 1 in ") {
				t.Errorf("migrate after the fix = %d %q %s", code, stdout, stderr)
			}
		})
	}
}

func TestStartChecksTheSchema(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "shop.db")
	env := []string{"DATABASE_URL=" + dbURL, "PORT=0"}
	newer := shop(shopFiles("002_create_tags.up.sql", "CREATE TABLE tags (id INTEGER);"))
	if code, _, stderr := runShop(t, newer, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	older := shop(shopFiles())
	code, _, stderr := runShop(t, older, env, "start")
	want := "Error: refusing to start: migrate: the database is at version 2 but this binary's newest migration is 1: a newer release migrated it. Run that release (or a newer one), or roll the database back with its binary (rollback -to VERSION) before running this one\n" +
		"Set MIGRATE_ALLOW_NEWER_SCHEMA=true to start anyway, if this release works with the newer schema\n"
	if code != 1 || !strings.HasSuffix(stderr, want) {
		t.Fatalf("start on a newer schema exited %d; stderr\n%s\nwant it to end with\n%s", code, stderr, want)
	}
	logs := startUntilListening(t, older, append(env, "MIGRATE_ALLOW_NEWER_SCHEMA=true"))
	waitLog(t, logs, "starting on a database migrated by a newer release")
}

func TestStartMigratesOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "shop.db")
	app := shop(shopFiles())
	m, err := migrate.New(app.Migrations, dbURL, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	startUntilListening(t, app, []string{"DATABASE_URL=" + dbURL, "PORT=0"})
	if st, err := m.Status(context.Background()); err != nil || st.Version != migrate.NilVersion {
		t.Fatalf("start without MIGRATE_ON_START migrated to %d (%v)", st.Version, err)
	}
	logs := startUntilListening(t, app, []string{"DATABASE_URL=" + dbURL, "PORT=0", "MIGRATE_ON_START=true"})
	waitLog(t, logs, "applied migration")
	if st, err := m.Status(context.Background()); err != nil || st.Version != 1 {
		t.Fatalf("start with MIGRATE_ON_START=true left version %d (%v), want 1", st.Version, err)
	}
}

// startUntilListening runs start until it listens, then stops it and checks
// it exits 0. It returns the logs.
func startUntilListening(t *testing.T, app release.App[runtimeconfig.Base], env []string) *testkit.Buffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &testkit.Buffer{}
	done := make(chan int, 1)
	env = append(append([]string{"LOG_FORMAT=json"}, runtimeDirs(t)...), env...)
	go func() {
		done <- app.Run(ctx, []string{"start"}, env, strings.NewReader(""), &bytes.Buffer{}, logs)
	}()
	waitLog(t, logs, "HTTP server listening")
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("start exited %d after cancel, want 0; logs:\n%s", code, logs.String())
	}
	return logs
}

func TestConfigListsMigrationVariables(t *testing.T) {
	t.Parallel()
	_, stdout, _ := runShop(t, shop(shopFiles()), nil, "config")
	for _, v := range []string{"MIGRATE_ON_START", "MIGRATE_LOCK_TIMEOUT", "MIGRATE_ALLOW_NEWER_SCHEMA"} {
		if !strings.Contains(stdout, "\n"+v+" ") {
			t.Errorf("config of an app with migrations does not list %s:\n%s", v, stdout)
		}
	}
	_, stdout, _ = run([]string{"config"})
	if strings.Contains(stdout, "MIGRATE_") {
		t.Errorf("config of an app without migrations lists migration variables:\n%s", stdout)
	}
	_, stdout, _ = runShop(t, shop(shopFiles()), nil, "help")
	for _, c := range []string{"\n  migrate ", "\n  rollback "} {
		if !strings.Contains(stdout, c) {
			t.Errorf("help does not list%s:\n%s", c, stdout)
		}
	}
	_, stdout, _ = run([]string{"help"})
	if strings.Contains(stdout, "migrate") || strings.Contains(stdout, "rollback") {
		t.Errorf("help of an app without migrations lists migrate or rollback:\n%s", stdout)
	}
	code, _, stderr := run([]string{"migrate"})
	if want := "Error: testapp has no migrations: set release.App.Migrations to the embedded migrations directory\n"; code != 1 || stderr != want {
		t.Errorf("migrate without migrations = %d %q, want 1 %q", code, stderr, want)
	}
}

// TestRollbackStepZeroChangesNothing: -step 0 is a usage error (it used to
// be taken as "not given" and revert one migration).
func TestRollbackStepZeroChangesNothing(t *testing.T) {
	t.Parallel()
	env := []string{"DATABASE_URL=" + testdb.SQLite(t)}
	app := shop(shopFiles("002_create_tags.up.sql", "CREATE TABLE tags (id INTEGER);", "002_create_tags.down.sql", "DROP TABLE tags;"))
	if code, _, stderr := runShop(t, app, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	for _, args := range [][]string{{"rollback", "-step", "0"}, {"rollback", "-step", "-2"}} {
		code, _, stderr := runShop(t, app, env, args...)
		if code != 64 || !strings.Contains(stderr, "-step must be a positive number") {
			t.Errorf("%v: want exit 64 naming -step, got %d %q", args, code, stderr)
		}
	}
	if code, stdout, stderr := runShop(t, app, env, "rollback"); code != 0 || !strings.HasPrefix(stdout, "Rolled back to version 1: reverted 1") {
		t.Errorf("rollback after the refused ones: want the database still at version 2, reverted to 1 now; got %d %q %s", code, stdout, stderr)
	}
}
