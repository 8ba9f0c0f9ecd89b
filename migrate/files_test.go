package migrate_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/relkit/relkit/migrate"
)

func TestListRejectsBadFiles(t *testing.T) {
	t.Parallel()
	fsys := files(
		"001_ok.up.sql", "SELECT 1;",
		"README.md", "notes",
		"002_no_direction.sql", "",
		"003_wrong_ext.up.txt", "",
		"004_a.up.sql", "",
		"0004_b.up.sql", "",
		"005_orphan.down.sql", "",
		"sub/006_nested.up.sql", "",
	)
	_, err := migrate.List(fsys)
	var fe *migrate.FilesError
	if !errors.As(err, &fe) || !errors.Is(err, migrate.ErrBadFiles) {
		t.Fatalf("List = %v, want a *FilesError", err)
	}
	want := "migrate: bad migration files (fix or remove them; every file must be named VERSION_NAME.up.sql / VERSION_NAME.down.sql, e.g. 001_create_links.up.sql):\n" +
		"\t002_no_direction.sql: not a migration file name: want VERSION_NAME.up.sql / VERSION_NAME.down.sql, e.g. 001_create_links.up.sql\n" +
		"\t003_wrong_ext.up.txt: not a migration file name: want VERSION_NAME.up.sql / VERSION_NAME.down.sql, e.g. 001_create_links.up.sql\n" +
		"\t004_a.up.sql: same version and direction as 0004_b.up.sql: each version needs exactly one up file\n" +
		"\t005_orphan.down.sql: a down file without an up file\n" +
		"\tREADME.md: not a migration file name: want VERSION_NAME.up.sql / VERSION_NAME.down.sql, e.g. 001_create_links.up.sql\n" +
		"\tsub/: a directory: migrations must sit at the root of the file system (pass fs.Sub(fsys, \"sub\") if they are inside it)"
	if got := err.Error(); got != want {
		t.Errorf("message:\n got %s\nwant %s", got, want)
	}
	if _, err := migrate.New(fsys, "sqlite://x.db", migrate.Options{}); !errors.Is(err, migrate.ErrBadFiles) {
		t.Errorf("New = %v, want ErrBadFiles", err)
	}
}

func TestListChecksumsAndOrder(t *testing.T) {
	t.Parallel()
	ms, err := migrate.List(files(
		"20250102150405_add_clicks.up.sql", "ALTER TABLE links ADD clicks INT;",
		"10_create_links.up.sql", "CREATE TABLE links (id INT);",
		"10_create_links.down.sql", "DROP TABLE links;",
	))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		v              uint
		name, up, down string
	}
	want := []row{
		{10, "create_links", "10_create_links.up.sql", "10_create_links.down.sql"},
		{20250102150405, "add_clicks", "20250102150405_add_clicks.up.sql", ""},
	}
	if len(ms) != len(want) {
		t.Fatalf("List returned %d migrations, want %d", len(ms), len(want))
	}
	for i, w := range want {
		m := ms[i]
		if m.Version != w.v || m.Name != w.name || m.Up != w.up || m.Down != w.down {
			t.Errorf("migration %d = %d %s %s %s, want %d %s %s %s", i, m.Version, m.Name, m.Up, m.Down, w.v, w.name, w.up, w.down)
		}
		if len(m.UpSHA256) != 64 || (m.Down == "") != (m.DownSHA256 == "") {
			t.Errorf("migration %d checksums %q %q: want hex SHA-256 of each file", i, m.UpSHA256, m.DownSHA256)
		}
	}
	if got, want := ms[0].UpSHA256, sha("CREATE TABLE links (id INT);"); got != want {
		t.Errorf("UpSHA256 = %s, want %s", got, want)
	}
	if got, want := ms[0].DownSHA256, sha("DROP TABLE links;"); got != want {
		t.Errorf("DownSHA256 = %s, want %s", got, want)
	}
	if ms, err := migrate.List(fstest.MapFS{}); err != nil || len(ms) != 0 {
		t.Errorf("List(empty) = %v, %v; want none", ms, err)
	}
	if ms, err := migrate.List(nil); err != nil || len(ms) != 0 {
		t.Errorf("List(nil) = %v, %v; want none", ms, err)
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 15, 4, 5, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name     string
		existing []string
		arg      string
		want     string
	}{
		{"empty directory gets a UTC timestamp", nil, "add_clicks", "20250102140405_add_clicks"},
		{"sequential numbering continues with its padding", []string{"001_a.up.sql", "002_b.up.sql"}, "add clicks", "003_add_clicks"},
		{"timestamps stay newer than the newest", []string{"20300101000000_future.up.sql"}, "Add-Clicks", "20300101000001_add_clicks"},
		{"timestamps continue", []string{"20240101000000_a.up.sql"}, "x", "20250102140405_x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for _, f := range tt.existing {
				os.WriteFile(filepath.Join(dir, f), nil, 0o644)
			}
			up, down, err := migrate.Create(dir, tt.arg, now)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := filepath.Base(up), tt.want+".up.sql"; got != want {
				t.Errorf("up = %s, want %s", got, want)
			}
			if got, want := filepath.Base(down), tt.want+".down.sql"; got != want {
				t.Errorf("down = %s, want %s", got, want)
			}
			if _, err := migrate.List(os.DirFS(dir)); err != nil {
				t.Errorf("the new files do not list: %v", err)
			}
		})
	}
	t.Run("refuses bad names and never overwrites", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "migrations")
		if _, _, err := migrate.Create(dir, "drop;table", now); err == nil || !strings.Contains(err.Error(), `migration name "drop;table": use lowercase letters, digits and underscores`) {
			t.Errorf("Create(bad name) = %v", err)
		}
		if _, _, err := migrate.Create(dir, "a", now); err != nil {
			t.Fatalf("Create into a missing directory: %v", err)
		}
		os.Remove(filepath.Join(dir, "20250102140405_a.up.sql"))
		os.WriteFile(filepath.Join(dir, "20250102140405_a.up.sql"), []byte("mine"), 0o644)
		os.Remove(filepath.Join(dir, "20250102140405_a.down.sql"))
		// The directory's newest is now 20250102140405 itself; the next
		// version is one more, so nothing is overwritten.
		up, _, err := migrate.Create(dir, "a", now)
		if err != nil || filepath.Base(up) != "20250102140406_a.up.sql" {
			t.Errorf("Create = %s, %v; want 20250102140406_a.up.sql", up, err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "20250102140405_a.up.sql")); string(b) != "mine" {
			t.Errorf("an existing file was overwritten: %q", b)
		}
	})
}
