package migrate_test

import (
	"errors"
	"testing"

	"github.com/relkit/relkit/migrate"
)

func TestUpNoChangeRollback(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, url string) {
		ctx := ctxT(t)
		m := newMigrator(t, items(), url, migrate.Options{})
		db := openDB(t, url)
		all := []string{"items", "tags", "item_tags"}

		step := func(name string, run func() (migrate.Result, error), wantRan string, wantVersion int, wantTables string) {
			t.Helper()
			res, err := run()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := versions(res); got != wantRan {
				t.Errorf("%s ran %q, want %q", name, got, wantRan)
			}
			if res.Version != wantVersion {
				t.Errorf("%s: version %d, want %d", name, res.Version, wantVersion)
			}
			if got := tables(t, db, all...); got != wantTables {
				t.Errorf("%s: tables %q, want %q", name, got, wantTables)
			}
			st, err := m.Status(ctx)
			if err != nil {
				t.Fatalf("Status after %s: %v", name, err)
			}
			if st.Version != wantVersion || st.Dirty {
				t.Errorf("Status after %s: version %d dirty %v, want %d clean", name, st.Version, st.Dirty, wantVersion)
			}
		}
		up := func() (migrate.Result, error) { return m.Up(ctx) }
		rb := func(o migrate.RollbackOptions) func() (migrate.Result, error) {
			return func() (migrate.Result, error) { return m.Rollback(ctx, o) }
		}

		step("up", up, "1,2,3", 3, "items,tags,item_tags")
		if n := count(t, db, "SELECT COUNT(*) FROM items"); n != 1 {
			t.Errorf("items has %d rows, want 1", n)
		}
		step("up again", up, "", 3, "items,tags,item_tags")
		step("rollback (one step)", rb(migrate.RollbackOptions{}), "3", 2, "items")
		step("up", up, "3", 3, "items,tags,item_tags")
		step("rollback -step 2", rb(migrate.RollbackOptions{Step: 2}), "3,2", 1, "items")
		if n := count(t, db, "SELECT COUNT(*) FROM items"); n != 0 {
			t.Errorf("after reverting 002 items has %d rows, want 0", n)
		}
		step("up", up, "2,3", 3, "items,tags,item_tags")
		step("rollback -to 2", rb(migrate.RollbackOptions{To: 2}), "3,2", 1, "items")
		step("up", up, "2,3", 3, "items,tags,item_tags")
		step("rollback -all", rb(migrate.RollbackOptions{All: true}), "3,2,1", migrate.NilVersion, "")
		step("rollback with nothing applied", rb(migrate.RollbackOptions{}), "", migrate.NilVersion, "")
		step("up from scratch", up, "1,2,3", 3, "items,tags,item_tags")
		if n := count(t, db, "SELECT COUNT(*) FROM relkit_migrations"); n != 3 {
			t.Errorf("relkit_migrations has %d rows, want 3", n)
		}
	})
}

func TestRollbackRefusals(t *testing.T) {
	t.Parallel()
	url := testdbSQLite(t)
	ctx := ctxT(t)
	fsys := items()
	delete(fsys, "002_seed_item.down.sql")
	m := newMigrator(t, fsys, url, migrate.Options{Command: "links"})
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    migrate.RollbackOptions
		want    error
		message string
	}{
		{"crossing a migration without down file", migrate.RollbackOptions{Step: 2}, migrate.ErrNoDownFile,
			"migrate: cannot roll back 002_seed_item: it has no down file (002_seed_item.down.sql); nothing was rolled back. Add the down file, or revert it by hand and run links migrate force 1"},
		{"to a version with no file", migrate.RollbackOptions{To: 7}, migrate.ErrUnknownVersion,
			"migrate: unknown migration version: rollback to 7: the binary has no migration 7"},
		{"more steps than applied", migrate.RollbackOptions{Step: 4}, migrate.ErrBadRollback,
			"migrate: invalid rollback: rollback -step 4: only 3 migrations are applied; nothing was rolled back (revert them all with -all)"},
		{"two selectors", migrate.RollbackOptions{Step: 1, All: true}, migrate.ErrBadRollback,
			"migrate: invalid rollback: give one of step, to and all"},
		{"negative step", migrate.RollbackOptions{Step: -1}, migrate.ErrBadRollback,
			"migrate: invalid rollback: step -1: want a positive number of migrations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Rollback(ctx, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Rollback(%+v) = %v, want %v", tt.opts, err, tt.want)
			}
			if got := err.Error(); got != tt.message {
				t.Errorf("message:\n got %s\nwant %s", got, tt.message)
			}
			st, err := m.Status(ctx)
			if err != nil || st.Version != 3 {
				t.Errorf("after a refused rollback: version %d (%v), want 3", st.Version, err)
			}
		})
	}
}

// RollbackAfter keeps the version it is given: what a downgrade to a
// release whose newest migration is that version needs.
func TestRollbackAfter(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, url string) {
		ctx := ctxT(t)
		m := newMigrator(t, items(), url, migrate.Options{})
		db := openDB(t, url)
		for _, tc := range []struct {
			after      int
			wantRan    string
			wantTables string
		}{
			{3, "", "items,tags,item_tags"}, // at the version already
			{5, "", "items,tags,item_tags"}, // an older binary's newest need not be this one's
			{1, "3,2", "items"},
			{migrate.NilVersion, "1", ""},
		} {
			if tc.after == 3 {
				if _, err := m.Up(ctx); err != nil {
					t.Fatal(err)
				}
			}
			res, err := m.RollbackAfter(ctx, tc.after)
			if err != nil || versions(res) != tc.wantRan {
				t.Errorf("RollbackAfter(%d) ran %q (%v), want %q", tc.after, versions(res), err, tc.wantRan)
			}
			want := max(tc.after, migrate.NilVersion)
			if tc.after > 3 {
				want = 3
			}
			if res.Version != want {
				t.Errorf("RollbackAfter(%d): version %d, want %d", tc.after, res.Version, want)
			}
			if got := tables(t, db, "items", "tags", "item_tags"); got != tc.wantTables {
				t.Errorf("RollbackAfter(%d): tables %q, want %q", tc.after, got, tc.wantTables)
			}
		}
		if _, err := m.RollbackAfter(ctx, -2); !errors.Is(err, migrate.ErrBadRollback) {
			t.Errorf("RollbackAfter(-2) = %v, want ErrBadRollback", err)
		}
		if m.Latest() != 3 || newMigrator(t, files(), url, migrate.Options{}).Latest() != migrate.NilVersion {
			t.Errorf("Latest = %d, want 3 (and NilVersion without migrations)", m.Latest())
		}
	})
}
