package layout

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/internal/securedir"
	"github.com/relkit/relkit/internal/testkit/testuser"
)

func TestMain(m *testing.M) { testuser.Main(m, nil) }

func TestResolve(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	bin := Binary(root, "1.2.0", "app")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "bin", "app")
	if err := os.Symlink("../releases/1.2.0/app", link); err != nil {
		t.Fatal(err)
	}
	// A symlink to bin/app from elsewhere must still find the root.
	elsewhere := filepath.Join(t.TempDir(), "app")
	if err := os.Symlink(link, elsewhere); err != nil {
		t.Fatal(err)
	}
	realRoot, _ := filepath.EvalSymlinks(root)
	cwd := t.TempDir()

	tests := []struct {
		name      string
		exe       string
		env       map[string]string
		wantRoot  string
		wantTmp   string
		wantLog   string
		assembled bool
	}{
		{"binary in release", bin, nil, realRoot, filepath.Join(realRoot, "tmp"), filepath.Join(realRoot, "log"), true},
		{"through bin symlink", link, nil, realRoot, filepath.Join(realRoot, "tmp"), filepath.Join(realRoot, "log"), true},
		{"through outside symlink", elsewhere, nil, realRoot, filepath.Join(realRoot, "tmp"), filepath.Join(realRoot, "log"), true},
		{"development build uses cwd", filepath.Join(cwd, "app"), nil, cwd, filepath.Join(cwd, "tmp"), filepath.Join(cwd, "log"), false},
		{"overrides", bin, map[string]string{"RELEASE_ROOT": "/srv/app", "RELEASE_TMP": "/run/app", "RELEASE_LOG_DIR": "logs"},
			"/srv/app", "/run/app", "/srv/app/logs", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Resolve(tt.exe, cwd, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if l.Root != tt.wantRoot || l.Tmp != tt.wantTmp || l.Log != tt.wantLog || l.Assembled != tt.assembled {
				t.Fatalf("want {%s %s %s %v}, got %+v", tt.wantRoot, tt.wantTmp, tt.wantLog, tt.assembled, l)
			}
		})
	}
}

func TestMkdirPrivate(t *testing.T) {
	t.Parallel()
	t.Run("creates a private directory", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "a", "tmp")
		if err := MkdirPrivate(dir); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if want, got := os.FileMode(0o700), fi.Mode().Perm(); want != got {
			t.Fatalf("want %v, got %v", want, got)
		}
	})
	t.Run("refuses an open directory and leaves it alone", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "tmp")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o770)
		err := MkdirPrivate(dir)
		if !errors.Is(err, securedir.ErrUnsafe) || !strings.Contains(err.Error(), "chmod 0700 "+dir) {
			t.Fatalf("want a securedir error telling to chmod 0700 %s, got %v", dir, err)
		}
		fi, _ := os.Stat(dir)
		if want, got := os.FileMode(0o770), fi.Mode().Perm(); want != got {
			t.Fatalf("want the directory left at %v, got %v (it must never be chmod'ed)", want, got)
		}
	})
}

// The reproduction: root runs the release with RELEASE_TMP in a
// sticky world-writable directory that another user got to first.
func TestMkdirPrivateRefusesAnotherUsersDirectory(t *testing.T) {
	u := testuser.Get(t)
	base, err := os.MkdirTemp("", "layout")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	shared := filepath.Join(base, "shared")
	os.Mkdir(shared, 0o700)
	os.Chmod(shared, 0o777|os.ModeSticky)

	for _, c := range []struct{ name, precreate, dir, atFault string }{
		{"pre-created RELEASE_TMP", filepath.Join(shared, "tmp"), filepath.Join(shared, "tmp"), filepath.Join(shared, "tmp")},
		{"parent of RELEASE_TMP", filepath.Join(shared, "app"), filepath.Join(shared, "app", "tmp"), filepath.Join(shared, "app")},
	} {
		testuser.Run(t, "mkdir", c.precreate, "0777")
		err := MkdirPrivate(c.dir)
		var e *securedir.Error
		if !errors.As(err, &e) || e.Dir != c.atFault || e.UID != u.UID {
			t.Errorf("%s: want %s refused as owned by uid %d, got %v", c.name, c.atFault, u.UID, err)
			continue
		}
		if want := fmt.Sprintf("owned by %s (uid %d)", u.Name, u.UID); !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want the message to say %q, got %v", c.name, want, err)
		}
		if fi, _ := os.Stat(c.precreate); fi.Mode().Perm() != 0o777 {
			t.Errorf("%s: %s was chmod'ed to %v", c.name, c.precreate, fi.Mode().Perm())
		}
	}
	if _, err := os.Lstat(filepath.Join(shared, "app", "tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a directory was created under the other user's %s", filepath.Join(shared, "app"))
	}
}
