package migrate_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/golang-migrate/migrate/v4/database"
	gmmysql "github.com/golang-migrate/migrate/v4/database/mysql"
	gmpostgres "github.com/golang-migrate/migrate/v4/database/postgres"
	"github.com/relkit/relkit/internal/testkit/testdb"
	"github.com/relkit/relkit/migrate"
)

// childEnv makes the test binary a process running migrate Up (see
// TestMain), for the concurrency test.
const childEnv = "RELKIT_MIGRATE_TEST_CHILD_URL"

func TestMain(m *testing.M) {
	if url := os.Getenv(childEnv); url != "" {
		os.Exit(child(url))
	}
	if url := os.Getenv(killURLEnv); url != "" {
		os.Exit(killChild(url))
	}
	os.Exit(m.Run())
}

func child(url string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := migrate.New(concurrentFiles(testdb.Scheme(url)), url, migrate.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	res, err := m.Up(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("ran %d\n", len(res.Ran))
	return 0
}

// concurrentFiles has a slow migration so that runs overlap, and one that
// inserts a row, so a migration applied twice shows.
func concurrentFiles(engine string) fstest.MapFS {
	sleep := "SELECT pg_sleep(0.3);"
	switch engine {
	case "mysql":
		sleep = "DO SLEEP(0.3);"
	case "sqlite": // no sleep function: count to 200000
		sleep = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT COUNT(*) FROM c;"
	}
	return files(
		"1_create_runs.up.sql", "CREATE TABLE runs (n INTEGER);",
		"2_slow.up.sql", sleep,
		"3_insert_run.up.sql", "INSERT INTO runs (n) VALUES (1);",
		"4_create_more.up.sql", "CREATE TABLE more (n INTEGER);",
	)
}

// serverEngines runs f per server engine (SQLite has no cross-process lock).
func serverEngines(t *testing.T, f func(t *testing.T, url string)) {
	for _, e := range testdb.Engines() {
		if e.Name == "sqlite" {
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			f(t, e.New(t))
		})
	}
}

// Eight processes run Up at once, as replicas starting together do: every
// one succeeds and every migration is applied exactly once. On SQLite too,
// where a lock file beside the database serializes them.
func TestConcurrentProcessesApplyEachMigrationOnce(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, url string) {
		const n = 8
		type out struct {
			stdout, stderr string
			err            error
		}
		outs := make([]out, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), childEnv+"="+url)
				var so, se strings.Builder
				cmd.Stdout, cmd.Stderr = &so, &se
				outs[i] = out{err: cmd.Run()}
				outs[i].stdout, outs[i].stderr = so.String(), se.String()
			}()
		}
		wg.Wait()
		applied := 0
		for i, o := range outs {
			if o.err != nil {
				t.Errorf("process %d: %v\n%s", i, o.err, o.stderr)
				continue
			}
			var ran int
			if _, err := fmt.Sscanf(o.stdout, "ran %d", &ran); err != nil {
				t.Errorf("process %d printed %q", i, o.stdout)
			}
			applied += ran
		}
		if applied != 4 {
			t.Errorf("the processes applied %d migrations in all, want 4 (each once)", applied)
		}
		db := openDB(t, url)
		if got := count(t, db, "SELECT COUNT(*) FROM runs"); got != 1 {
			t.Errorf("runs has %d rows, want 1", got)
		}
		if got := count(t, db, "SELECT COUNT(*) FROM relkit_migrations"); got != 4 {
			t.Errorf("relkit_migrations has %d rows, want 4", got)
		}
		if got := count(t, db, "SELECT version FROM schema_migrations WHERE dirty = false"); got != 4 {
			t.Errorf("schema_migrations at %d, want 4 clean", got)
		}
	})
}

// holder holds golang-migrate's own lock, as a golang-migrate run would.
type holder struct {
	drv    database.Driver
	lockID string
	free   func(t *testing.T) bool // reports whether nobody holds the lock
	others func(t *testing.T) int  // locks held by sessions other than the holder's
}

func holdLock(t *testing.T, url string) *holder {
	t.Helper()
	db := openDB(t, url)
	h := &holder{}
	var err error
	switch testdb.Scheme(url) {
	case "postgres":
		conn, cerr := db.Conn(ctxT(t))
		if cerr != nil {
			t.Fatal(cerr)
		}
		var name string
		var pid int
		conn.QueryRowContext(ctxT(t), "SELECT current_database(), pg_backend_pid()").Scan(&name, &pid)
		h.lockID, _ = database.GenerateAdvisoryLockId(name, "public", "schema_migrations")
		h.drv, err = gmpostgres.WithConnection(ctxT(t), conn, &gmpostgres.Config{})
		h.free = func(t *testing.T) bool {
			var ok bool
			db.QueryRow("SELECT CASE WHEN pg_try_advisory_lock($1) THEN pg_advisory_unlock($1) ELSE false END", h.lockID).Scan(&ok)
			return ok
		}
		h.others = func(t *testing.T) int {
			return count(t, db, fmt.Sprintf("SELECT COUNT(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database() AND l.pid <> %d", pid))
		}
	case "mysql":
		var name string
		db.QueryRow("SELECT DATABASE()").Scan(&name)
		h.lockID, _ = database.GenerateAdvisoryLockId(name + ":schema_migrations")
		h.drv, err = gmmysql.WithInstance(db, &gmmysql.Config{})
		h.free = func(t *testing.T) bool {
			var owner sql.NullInt64
			db.QueryRow("SELECT IS_USED_LOCK(?)", h.lockID).Scan(&owner)
			return !owner.Valid
		}
	}
	if err != nil {
		t.Fatalf("golang-migrate driver: %v", err)
	}
	if err := h.drv.Lock(); err != nil {
		t.Fatalf("take golang-migrate's lock: %v", err)
	}
	return h
}

// A run that times out waiting for the lock changes nothing, leaves no lock
// behind (golang-migrate #269) and the next run works.
func TestLockTimeoutLeavesDatabaseUsable(t *testing.T) {
	t.Parallel()
	serverEngines(t, func(t *testing.T, url string) {
		ctx := ctxT(t)
		h := holdLock(t, url)
		m := newMigrator(t, items(), url, migrate.Options{LockTimeout: 500 * time.Millisecond})
		start := time.Now()
		_, err := m.Up(ctx)
		took := time.Since(start)
		if !errors.Is(err, migrate.ErrLockTimeout) {
			t.Fatalf("Up while golang-migrate holds the lock = %v, want ErrLockTimeout", err)
		}
		if took > 5*time.Second {
			t.Errorf("Up took %v to time out, want about 500ms", took)
		}
		want := "migrate: timed out waiting for the migration lock: " + m.Engine() + " did not grant the migration lock within 500ms; another process may be migrating this database. Nothing was changed; wait for it and run the command again, or raise the lock timeout"
		if err.Error() != want {
			t.Errorf("message:\n got %s\nwant %s", err, want)
		}
		if h.others != nil {
			if n := h.others(t); n != 0 {
				t.Errorf("%d advisory locks held besides the holder's after the timeout", n)
			}
		}
		if err := h.drv.Unlock(); err != nil {
			t.Fatal(err)
		}
		if !h.free(t) {
			t.Errorf("the lock is held after the holder released it: the timed-out run left it behind")
		}
		if st, err := m.Status(ctx); err != nil || st.Version != migrate.NilVersion {
			t.Errorf("Status after the timeout = %+v, %v; want nothing applied", st, err)
		}
		if _, err := newMigrator(t, items(), url, migrate.Options{LockTimeout: 5 * time.Second}).Up(ctx); err != nil {
			t.Errorf("Up after the holder released the lock: %v", err)
		}
	})
}

// The lock timeout also bounds connecting: a server that accepts the TCP
// connection and never answers does not hang the run.
func TestLockTimeoutBoundsConnect(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	for _, url := range []string{
		"postgres://u:secret@" + ln.Addr().String() + "/db?sslmode=disable",
		"mysql://u:secret@" + ln.Addr().String() + "/db",
	} {
		t.Run(testdb.Scheme(url), func(t *testing.T) {
			t.Parallel()
			m := newMigrator(t, items(), url, migrate.Options{LockTimeout: 300 * time.Millisecond})
			for name, f := range map[string]func(context.Context) error{
				"Up":     func(ctx context.Context) error { _, err := m.Up(ctx); return err },
				"Status": func(ctx context.Context) error { _, err := m.Status(ctx); return err },
			} {
				start := time.Now()
				err := f(ctxT(t))
				if !errors.Is(err, migrate.ErrLockTimeout) {
					t.Errorf("%s against a silent server = %v, want ErrLockTimeout", name, err)
				}
				if took := time.Since(start); took > 3*time.Second {
					t.Errorf("%s took %v, want about 300ms", name, took)
				}
				if err != nil && strings.Contains(err.Error(), "secret") {
					t.Errorf("%s error shows the password: %v", name, err)
				}
			}
		})
	}
}
