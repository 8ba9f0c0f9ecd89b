package migrate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/relkit/relkit/migrate"
)

func TestEditedAppliedFileIsRefused(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, url string) {
		ctx := ctxT(t)
		fsys := items()
		if _, err := newMigrator(t, fsys, url, migrate.Options{}).Up(ctx); err != nil {
			t.Fatal(err)
		}
		fsys["002_seed_item.up.sql"].Data = []byte("INSERT INTO items (id, name) VALUES (1, 'edited');")
		fsys["004_more.up.sql"] = files("x", "CREATE TABLE more (id INTEGER);")["x"]
		m := newMigrator(t, fsys, url, migrate.Options{Command: "links"})
		_, err := m.Up(ctx)
		var he *migrate.HistoryError
		if !errors.As(err, &he) || !errors.Is(err, migrate.ErrHistoryMismatch) {
			t.Fatalf("Up = %v, want a *HistoryError", err)
		}
		want := "migrate: the migration files do not match the database's history; nothing was migrated\n" +
			"edited after they were applied (the SHA-256 differs from the one recorded):\n\t002_seed_item.up.sql\n" +
			"Restore edited files to what was applied and put the change in a new migration (links migrate create NAME)."
		if got := err.Error(); got != want {
			t.Errorf("message:\n got %s\nwant %s", got, want)
		}
		st, err := m.Status(ctx)
		if err != nil || st.Version != 3 || states(st) != "1:applied 2:edited 3:applied 4:pending" {
			t.Errorf("Status = %s at %d (%v), want 2 edited, 4 pending, version 3", states(st), st.Version, err)
		}
		db := openDB(t, url)
		if got := tables(t, db, "more"); got != "" {
			t.Errorf("004 ran despite the edited file")
		}
	})
}

func TestOlderFileAddedLaterIsReported(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, url string) {
		ctx := ctxT(t)
		fsys := items()
		delete(fsys, "002_seed_item.up.sql")
		delete(fsys, "002_seed_item.down.sql")
		if _, err := newMigrator(t, fsys, url, migrate.Options{}).Up(ctx); err != nil {
			t.Fatal(err)
		}
		m := newMigrator(t, items(), url, migrate.Options{Command: "links"})
		_, err := m.Up(ctx)
		var he *migrate.HistoryError
		if !errors.As(err, &he) || len(he.OutOfOrder) != 1 || he.OutOfOrder[0].Version != 2 {
			t.Fatalf("Up = %v, want 002 reported out of order", err)
		}
		want := "migrate: the migration files do not match the database's history; nothing was migrated\n" +
			"older than the database's version 3 but never applied (added after newer migrations ran):\n\t002_seed_item.up.sql\n" +
			"Give out-of-order files a version newer than 3 (rename them; links migrate create NAME picks one)."
		if got := err.Error(); got != want {
			t.Errorf("message:\n got %s\nwant %s", got, want)
		}
		st, err := m.Status(ctx)
		if err != nil || states(st) != "1:applied 2:out of order 3:applied" {
			t.Errorf("Status = %s (%v), want 002 out of order", states(st), err)
		}
		// Rolling back is still possible: it only touches applied ones.
		res, err := m.Rollback(ctx, migrate.RollbackOptions{})
		if err != nil || versions(res) != "3" || res.Version != 1 {
			t.Errorf("Rollback ran %q to %d (%v), want 3 reverted to 1", versions(res), res.Version, err)
		}
	})
}

func TestDatabaseNewerThanBinary(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, url string) {
		ctx := ctxT(t)
		if _, err := newMigrator(t, items(), url, migrate.Options{}).Up(ctx); err != nil {
			t.Fatal(err)
		}
		old := items()
		delete(old, "003_create_tags.up.sql")
		delete(old, "003_create_tags.down.sql")
		m := newMigrator(t, old, url, migrate.Options{})
		want := "migrate: the database is at version 3 but this binary's newest migration is 2: a newer release migrated it. Run that release (or a newer one), or roll the database back with its binary (rollback -to VERSION) before running this one"
		for name, f := range map[string]func() error{
			"Check":    func() error { return m.Check(ctx) },
			"Up":       func() error { _, err := m.Up(ctx); return err },
			"Rollback": func() error { _, err := m.Rollback(ctx, migrate.RollbackOptions{}); return err },
		} {
			err := f()
			var ne *migrate.NewerSchemaError
			if !errors.As(err, &ne) || ne.Version != 3 || ne.Latest != 2 {
				t.Errorf("%s = %v, want a *NewerSchemaError 3 > 2", name, err)
				continue
			}
			if err.Error() != want {
				t.Errorf("%s message:\n got %s\nwant %s", name, err, want)
			}
		}
		st, err := m.Status(ctx)
		if err != nil || states(st) != "1:applied 2:applied 3:missing" || st.Latest != 2 {
			t.Errorf("Status = %s latest %d (%v), want 3 missing, latest 2", states(st), st.Latest, err)
		}
		// Pending migrations are not a reason to refuse to boot.
		if err := newMigrator(t, files(), url, migrate.Options{}).Check(ctx); !errors.Is(err, migrate.ErrNewerSchema) {
			t.Errorf("Check with no migrations = %v, want ErrNewerSchema", err)
		}
		fresh := newMigrator(t, items(), url, migrate.Options{})
		if _, err := fresh.Rollback(ctx, migrate.RollbackOptions{All: true}); err != nil {
			t.Fatal(err)
		}
		if err := fresh.Check(ctx); err != nil {
			t.Errorf("Check with everything pending = %v, want nil", err)
		}
	})
}

// A database migrated by golang-migrate alone gets its checksums recorded
// on relkit's first run instead of being treated as out of order.
func TestAdoptsDatabaseMigratedWithoutRelkit(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, url string) {
		ctx := ctxT(t)
		m := newMigrator(t, items(), url, migrate.Options{})
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		db := openDB(t, url)
		if _, err := db.Exec("DROP TABLE relkit_migrations"); err != nil {
			t.Fatal(err)
		}
		var log strings.Builder
		m = newMigrator(t, items(), url, migrate.Options{Logger: textLogger(&log)})
		res, err := m.Up(ctx)
		if err != nil || !res.NoChange() {
			t.Fatalf("Up = %+v, %v; want no change", res, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM relkit_migrations"); n != 3 {
			t.Errorf("relkit_migrations has %d rows, want 3", n)
		}
		if !strings.Contains(log.String(), `msg="recorded the checksums of migrations applied before relkit tracked them" count=3`) {
			t.Errorf("log does not say checksums were recorded:\n%s", log.String())
		}
	})
}
