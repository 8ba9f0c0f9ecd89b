package migrate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/relkit/relkit/internal/migratehook"
	"github.com/relkit/relkit/migrate"
)

func hooked(t *testing.T, url string) migratehook.Migrator {
	t.Helper()
	impl, ok := migratehook.Get()
	if !ok {
		t.Fatal("package migrate did not register with migratehook")
	}
	h, err := impl.New(items(), url, migratehook.Options{Command: "links"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// `migrate status` on a dirty database writes the table and then returns an
// error matching migratehook.ErrDirty (and migrate.ErrDirty) with the
// recovery advice, so the command can exit non-zero; a clean one returns nil.
func TestWriteStatusReportsDirty(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, url string) {
		h := hooked(t, url)
		if _, err := h.Up(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		if err := h.WriteStatus(ctxT(t), &out); err != nil {
			t.Fatalf("WriteStatus on a clean database = %v", err)
		}
		// A dirty flag as another tool leaves it.
		if _, err := openDB(t, url).Exec("UPDATE schema_migrations SET dirty = " + map[bool]string{true: "true", false: "1"}[strings.HasPrefix(url, "postgres")]); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		err := h.WriteStatus(ctxT(t), &out)
		if !errors.Is(err, migratehook.ErrDirty) || !errors.Is(err, migrate.ErrDirty) {
			t.Fatalf("WriteStatus on a dirty database = %v, want an error matching migratehook.ErrDirty", err)
		}
		if !strings.Contains(out.String(), "database version: 3 (DIRTY)") || !strings.Contains(out.String(), "3        create_tags   dirty") {
			t.Errorf("the table was not written first:\n%s", out.String())
		}
		if !strings.Contains(err.Error(), "\tlinks migrate force 3\n") {
			t.Errorf("the error lacks the recovery advice:\n%v", err)
		}
	})
}

// What release's upgrade (expand: apply the new release's migrations while
// the old one serves) and downgrade -rollback (revert with the newer
// release's down files) call through the hook.
func TestHookUpgradeAndDowngrade(t *testing.T) {
	t.Parallel()
	url := testdbSQLite(t)
	h := hooked(t, url)
	if h.Latest() != 3 {
		t.Errorf("Latest = %d, want 3", h.Latest())
	}
	if v, err := h.SchemaVersion(ctxT(t)); err != nil || v != -1 {
		t.Errorf("SchemaVersion before any = %d (%v), want -1", v, err)
	}
	if res, err := h.Up(ctxT(t)); err != nil || res.Version != "3" || strings.Join(res.Ran, ",") != "001_create_items,002_seed_item,003_create_tags" {
		t.Errorf("Up = %+v (%v)", res, err)
	}
	res, err := h.RollbackAfter(ctxT(t), 1)
	if err != nil || res.Version != "1" || strings.Join(res.Ran, ",") != "003_create_tags,002_seed_item" {
		t.Errorf("RollbackAfter(1) = %+v (%v), want 003, 002 reverted, at 1", res, err)
	}
	if v, err := h.SchemaVersion(ctxT(t)); err != nil || v != 1 {
		t.Errorf("SchemaVersion after RollbackAfter(1) = %d (%v), want 1", v, err)
	}
}
