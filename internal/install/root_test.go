package install_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/manifest"
)

// unpacked returns a root with v1 permanent and v2 unpacked.
func unpacked(t *testing.T) *install.Root {
	t.Helper()
	root, _ := newRoot(t)
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestOpen(t *testing.T) {
	t.Parallel()
	if _, err := install.Open(t.TempDir(), "app"); !errors.Is(err, install.ErrNotRoot) || !strings.Contains(err.Error(), "has no releases/ directory") {
		t.Errorf("Open of an empty directory: want ErrNotRoot, got %v", err)
	}
	if _, err := install.Open(t.TempDir(), "../app"); !errors.Is(err, install.ErrInvalidName) {
		t.Errorf("Open with name ../app: want ErrInvalidName, got %v", err)
	}
}

func TestMakePermanentSwitchesBin(t *testing.T) {
	t.Parallel()
	root := unpacked(t)
	must(t, root.MakeCurrent("1.1.0"))
	if want, got := []string{"1.0.0 permanent", "1.1.0 current"}, stateLines(t, root); !slices.Equal(want, got) {
		t.Errorf("after MakeCurrent: want %q, got %q", want, got)
	}
	if vsn, _ := root.Linked(); vsn != "1.0.0" {
		t.Errorf("MakeCurrent must leave bin/app alone: want 1.0.0, got %s", vsn)
	}
	must(t, root.MakePermanent("1.1.0"))
	if want, got := []string{"1.0.0 old", "1.1.0 permanent"}, stateLines(t, root); !slices.Equal(want, got) {
		t.Errorf("after MakePermanent: want %q, got %q", want, got)
	}
	link := filepath.Join(root.Dir(), "bin", "app")
	if target, err := os.Readlink(link); err != nil || target != "../releases/1.1.0/app" {
		t.Errorf("bin/app: want a link to ../releases/1.1.0/app, got %q (%v)", target, err)
	}
	if _, err := exec.LookPath("sh"); err == nil {
		out, err := exec.Command(link).Output()
		if want := "app 1.1.0\n"; err != nil || string(out) != want {
			t.Errorf("running bin/app: want %q, got %q (%v)", want, out, err)
		}
	}
	// And back: a downgrade.
	must(t, root.MakePermanent("1.0.0"))
	if want, got := []string{"1.0.0 permanent", "1.1.0 old"}, stateLines(t, root); !slices.Equal(want, got) {
		t.Errorf("after downgrade: want %q, got %q", want, got)
	}
	if vsn, _ := root.Linked(); vsn != "1.0.0" {
		t.Errorf("bin/app after downgrade: want 1.0.0, got %s", vsn)
	}
	if tmp, _ := filepath.Glob(filepath.Join(root.Dir(), "bin", ".*")); len(tmp) > 0 {
		t.Errorf("temporary links left in bin/: %v", tmp)
	}
}

func TestMakePermanentRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(t *testing.T, root *install.Root)
		vsn     string
		wantErr error
		wantMsg string
	}{
		{"not installed", func(*testing.T, *install.Root) {}, "2.0.0", install.ErrNotInstalled, "releases/2.0.0/release.json does not exist"},
		{"binary modified", func(t *testing.T, root *install.Root) {
			must(t, os.WriteFile(filepath.Join(root.Dir(), "releases", "1.1.0", "app"), []byte("#!/bin/sh\necho patched\n"), 0o755))
		}, "1.1.0", manifest.ErrMismatch, "releases/1.1.0/app"},
		{"bin/app is a regular file", func(t *testing.T, root *install.Root) {
			link := filepath.Join(root.Dir(), "bin", "app")
			must(t, os.Remove(link))
			must(t, os.WriteFile(link, []byte("#!/bin/sh\nexec wrapper\n"), 0o755))
		}, "1.1.0", nil, "not a symbolic link to releases/VSN/app: relkit will not replace it"},
		{"RELEASES unreadable", func(t *testing.T, root *install.Root) {
			must(t, os.WriteFile(root.StateFilePath(), []byte("1.0.0 permanent\n1.1.0 ???\n"), 0o644))
		}, "1.1.0", install.ErrState, `line 2 "1.1.0 ???"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := unpacked(t)
			tt.change(t, root)
			before := snapshot(t, root.Dir())
			err := root.MakePermanent(tt.vsn)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("MakePermanent: want an error matching %v containing %q, got %v", tt.wantErr, tt.wantMsg, err)
			}
			if d := diffSnapshots(before, snapshot(t, root.Dir())); d != "" {
				t.Errorf("a refused MakePermanent changed the root:\n%s", d)
			}
		})
	}
}

// TestBinSwitchIsAtomic switches bin/app back and forth while readers
// resolve it: bin/app must always exist and lead to a complete release.
func TestBinSwitchIsAtomic(t *testing.T) {
	t.Parallel()
	root := unpacked(t)
	link := filepath.Join(root.Dir(), "bin", "app")
	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		reads    atomic.Int64
		failures atomic.Int64
		firstErr atomic.Value
	)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				b, err := os.ReadFile(link) // follows the link to the binary
				if err != nil || !strings.HasPrefix(string(b), "#!/bin/sh\necho app 1.") {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
				reads.Add(1)
			}
		}()
	}
	for i := range 100 {
		vsn := []string{"1.1.0", "1.0.0"}[i%2]
		if err := root.MakePermanent(vsn); err != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("switch %d to %s: %v", i, vsn, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Errorf("bin/app could not be read %d times out of %d during 100 switches (first: %v)", n, reads.Load(), firstErr.Load())
	}
	if reads.Load() == 0 {
		t.Errorf("the readers never ran")
	}
}

func TestReleasesInferredWithoutStateFile(t *testing.T) {
	t.Parallel()
	root := unpacked(t)
	must(t, os.Remove(root.StateFilePath()))
	rs, err := root.Releases()
	if err != nil {
		t.Fatal(err)
	}
	if want, got := "1.0.0 permanent, 1.1.0 unpacked", format(rs); want != got {
		t.Errorf("inferred states: want %s, got %s", want, got)
	}
	// A directory holding only a waiting tarball is not a release.
	must(t, os.MkdirAll(filepath.Join(root.Dir(), "releases", "1.2.0"), 0o755))
	must(t, os.WriteFile(filepath.Join(root.Dir(), "releases", "1.2.0", "app-1.2.0.tar.gz"), nil, 0o644))
	if rs, err := root.Releases(); err != nil || format(rs) != "1.0.0 permanent, 1.1.0 unpacked" {
		t.Errorf("inferred states with a waiting tarball: want 1.0.0 permanent, 1.1.0 unpacked, got %s (%v)", format(rs), err)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	root := unpacked(t)
	must(t, root.MakeCurrent("1.1.0"))
	must(t, os.WriteFile(root.StateFilePath(), []byte(readFile(t, root.StateFilePath())+"0.9.0 old\n"), 0o644))
	list, err := root.List("1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		vsn      string
		state    install.State
		running  bool
		manifest bool
	}
	var got []row
	for _, in := range list {
		got = append(got, row{in.Version, in.State, in.Running, in.Manifest != nil})
	}
	want := []row{
		{"1.0.0", install.Permanent, false, true},
		{"1.1.0", install.Current, true, true},
		{"0.9.0", install.Old, false, false},
	}
	if !slices.Equal(want, got) {
		t.Fatalf("List:\nwant %+v\ngot  %+v", want, got)
	}
	if err := list[2].Err; !errors.Is(err, install.ErrNotInstalled) {
		t.Errorf("a listed release whose directory is gone: want Err matching ErrNotInstalled, got %v", err)
	}
	if list[1].Manifest.Version != "1.1.0" {
		t.Errorf("manifest of 1.1.0: got version %s", list[1].Manifest.Version)
	}
}

func TestFindTarball(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   []string
		target  string
		want    string
		wantErr string
	}{
		{"none", nil, "", "", "put app-1.1.0-"},
		{"only a checksum", []string{"app-1.1.0-linux-amd64.tar.gz.sha256"}, "", "", "no release tarball"},
		{"plain name", []string{"app-1.1.0.tar.gz"}, "", "app-1.1.0.tar.gz", ""},
		{"relkit tar name", []string{"app-1.1.0-linux-arm64.tar.gz"}, "", "app-1.1.0-linux-arm64.tar.gz", ""},
		{"another version with the same prefix", []string{"app-1.1.0.1.tar.gz", "app-1.1.01.tar.gz"}, "", "", "no release tarball"},
		{"several, one for the target", []string{"app-1.1.0-darwin-arm64.tar.gz", "app-1.1.0-linux-arm64.tar.gz"}, "linux/arm64", "app-1.1.0-linux-arm64.tar.gz", ""},
		{"several, none for the target", []string{"app-1.1.0-darwin-arm64.tar.gz", "app-1.1.0-linux-arm64.tar.gz"}, "linux/riscv64", "", "holds 2 tarballs (app-1.1.0-darwin-arm64.tar.gz, app-1.1.0-linux-arm64.tar.gz)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root, _ := newRoot(t)
			dir := filepath.Join(root.Dir(), "releases", "1.1.0")
			must(t, os.RemoveAll(dir))
			must(t, os.MkdirAll(dir, 0o755))
			for _, f := range tt.files {
				must(t, os.WriteFile(filepath.Join(dir, f), nil, 0o644))
			}
			got, err := root.FindTarball("1.1.0", tt.target)
			if tt.wantErr != "" {
				if !errors.Is(err, install.ErrNoTarball) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("FindTarball: want ErrNoTarball containing %q, got %q, %v", tt.wantErr, got, err)
				}
				return
			}
			if want := filepath.Join(dir, tt.want); err != nil || got != want {
				t.Errorf("FindTarball: want %s, got %s (%v)", want, got, err)
			}
		})
	}
}

func TestHighestMigration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   []string
		want    int
		wantAll []int
		wantErr string
	}{
		{"none", nil, install.NoMigrations, nil, ""},
		{"sequential", []string{"001_create_links.up.sql", "001_create_links.down.sql", "002_add_clicks.up.sql", "002_add_clicks.down.sql"}, 2, []int{1, 2}, ""},
		{"timestamps, unsorted", []string{"20240501120000_b.up.sql", "20230101000000_a.up.sql"}, 20240501120000, []int{20230101000000, 20240501120000}, ""},
		{"a down file newer than any up file does not count", []string{"003_x.up.sql", "004_y.down.sql"}, 3, []int{3}, ""},
		{"not a migration", []string{"README.md"}, 0, nil, `lists migration "README.md"`},
		{"no name", []string{"003_.up.sql"}, 0, nil, `lists migration "003_.up.sql"`},
		{"no version", []string{"_x.up.sql"}, 0, nil, `lists migration "_x.up.sql"`},
		{"letters in the version", []string{"3a_x.up.sql"}, 0, nil, `lists migration "3a_x.up.sql"`},
		{"neither up nor down", []string{"003_x.sideways.sql"}, 0, nil, `lists migration "003_x.sideways.sql"`},
		{"underscores in the name", []string{"007_add_the_index.up.sql"}, 7, []int{7}, ""},
		{"version too large", []string{"99999999999999999999_x.up.sql"}, 0, nil, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := &manifest.Manifest{Name: "app", Version: "1.0.0"}
			for _, f := range tt.files {
				m.Migrations = append(m.Migrations, manifest.Migration{File: f})
			}
			got, err := install.HighestMigration(m)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("HighestMigration: want error containing %q, got %d, %v", tt.wantErr, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("HighestMigration: want %d, got %d (%v)", tt.want, got, err)
			}
			if all, err := install.MigrationVersions(m); err != nil || !slices.Equal(all, tt.wantAll) {
				t.Errorf("MigrationVersions: want %v, got %v (%v)", tt.wantAll, all, err)
			}
		})
	}
}

func TestRootHighestMigration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, rel{name: "app", vsn: "2.0.0", migrations: []string{"001_a.up.sql", "001_a.down.sql", "002_b.up.sql"}})
	root, err := install.Open(dir, "app")
	must(t, err)
	if got, err := root.HighestMigration("2.0.0"); err != nil || got != 2 {
		t.Errorf("HighestMigration(2.0.0): want 2, got %d (%v)", got, err)
	}
	if _, err := root.HighestMigration("3.0.0"); !errors.Is(err, install.ErrNotInstalled) {
		t.Errorf("HighestMigration of a release not installed: want ErrNotInstalled, got %v", err)
	}
}

func TestCheckVersion(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"1.0.0", "1.2.0-rc.1+build.5", "v2", "2024_05_01"} {
		if err := install.CheckVersion(ok); err != nil {
			t.Errorf("CheckVersion(%q): want nil, got %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "../1", "1/2", ".hidden", "-1", "1*", "1 0", "RELEASES", strings.Repeat("1", 129)} {
		if err := install.CheckVersion(bad); !errors.Is(err, install.ErrInvalidName) {
			t.Errorf("CheckVersion(%q): want ErrInvalidName, got %v", bad, err)
		}
	}
}
