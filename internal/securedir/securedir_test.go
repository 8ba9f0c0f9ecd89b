package securedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/relkit/relkit/internal/testkit/testuser"
)

func TestMain(m *testing.M) { testuser.Main(m, nil) }

func mkdir(t *testing.T, dir string, mode fs.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

func modeOf(t *testing.T, p string) fs.FileMode {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode()
}

// wantUnsafe checks that err is an *Error for dir with problem p, and that
// its message holds every fragment.
func wantUnsafe(t *testing.T, err error, dir string, p Problem, fragments ...string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want an *Error about %s, got %v", dir, err)
	}
	if !errors.Is(err, ErrUnsafe) {
		t.Errorf("want the error to match ErrUnsafe")
	}
	if e.Dir != dir || e.Problem != p {
		t.Errorf("want Dir %s Problem %d, got Dir %s Problem %d (%v)", dir, p, e.Dir, e.Problem, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("want the message to contain %q, got:\n%v", f, err)
		}
	}
	return e
}

func TestEnsureCreatesPrivateDirectories(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b", "tmp")
	if err := Ensure(dir, os.Geteuid()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(base, "a"), filepath.Join(base, "a", "b"), dir} {
		if want, got := fs.ModeDir|0o700, modeOf(t, p); want != got {
			t.Errorf("%s: want mode %v, got %v", p, want, got)
		}
	}
	// A second call accepts what the first made.
	if err := Ensure(dir, os.Geteuid()); err != nil {
		t.Fatalf("second Ensure: want nil, got %v", err)
	}
}

func TestEnsureRelativePath(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	if err := Ensure("rel/tmp", os.Geteuid()); err != nil {
		t.Fatal(err)
	}
	if want, got := fs.ModeDir|0o700, modeOf(t, filepath.Join(base, "rel", "tmp")); want != got {
		t.Errorf("want mode %v, got %v", want, got)
	}
}

func TestRulesForTheDirectoryAndItsParents(t *testing.T) {
	t.Parallel()
	me := os.Geteuid()
	cases := []struct {
		name    string
		setup   func(t *testing.T, base string) (dir, atFault string)
		problem Problem // 0: accepted
		message []string
	}{
		{"private directory", func(t *testing.T, base string) (string, string) {
			return mkdir(t, filepath.Join(base, "tmp"), 0o700), ""
		}, 0, nil},
		{"sticky world-writable parent, like /tmp", func(t *testing.T, base string) (string, string) {
			shared := mkdir(t, filepath.Join(base, "shared"), 0o777|fs.ModeSticky)
			return filepath.Join(shared, "tmp"), ""
		}, 0, nil},
		{"readable by others, as a release tarball unpacks it", func(t *testing.T, base string) (string, string) {
			return mkdir(t, filepath.Join(base, "tmp"), 0o755), ""
		}, 0, nil},
		{"group-writable", func(t *testing.T, base string) (string, string) {
			d := mkdir(t, filepath.Join(base, "tmp"), 0o770)
			return d, d
		}, WritableByOthers, []string{"mode 0770", "writable by its group,", "chmod 0700 "}},
		{"world-writable", func(t *testing.T, base string) (string, string) {
			d := mkdir(t, filepath.Join(base, "tmp"), 0o703)
			return d, d
		}, WritableByOthers, []string{"mode 0703", "writable by others,"}},
		{"world-writable even with the sticky bit", func(t *testing.T, base string) (string, string) {
			d := mkdir(t, filepath.Join(base, "tmp"), 0o777|fs.ModeSticky)
			return d, d
		}, WritableByOthers, []string{"mode 1777", "writable by its group and others,", "it is a shared directory like /tmp; choose a directory of the release's own", "/NAME)"}},
		{"unclean path", func(t *testing.T, base string) (string, string) {
			d := mkdir(t, filepath.Join(base, "tmp"), 0o770)
			return base + "/./x/../tmp/", d
		}, WritableByOthers, []string{"/tmp/: owned by ", "mode 0770, writable by its group"}},
		{"world-writable parent without sticky bit", func(t *testing.T, base string) (string, string) {
			p := mkdir(t, filepath.Join(base, "open"), 0o777)
			return filepath.Join(p, "tmp"), p
		}, ParentWritable, []string{"its parent ", "mode 0777", "writable by its group and others without the sticky bit", "chmod go-w", "not under"}},
		{"group-writable parent", func(t *testing.T, base string) (string, string) {
			p := mkdir(t, filepath.Join(base, "team"), 0o775)
			return filepath.Join(p, "x", "tmp"), p
		}, ParentWritable, []string{"mode 0775", "writable by its group without"}},
		{"a file on the path", func(t *testing.T, base string) (string, string) {
			f := filepath.Join(base, "file")
			os.WriteFile(f, nil, 0o600)
			return filepath.Join(f, "tmp"), f
		}, NotDirectory, []string{"not a directory"}},
		{"the directory is a file", func(t *testing.T, base string) (string, string) {
			f := filepath.Join(base, "tmp")
			os.WriteFile(f, nil, 0o600)
			return f, f
		}, NotDirectory, []string{"not a directory"}},
		{"own symlink to a private directory", func(t *testing.T, base string) (string, string) {
			real := mkdir(t, filepath.Join(base, "real"), 0o700)
			link := filepath.Join(base, "link")
			os.Symlink(real, link)
			return link, ""
		}, 0, nil},
		{"relative symlink on the path", func(t *testing.T, base string) (string, string) {
			mkdir(t, filepath.Join(base, "v", "run"), 0o755)
			os.Symlink("v/run", filepath.Join(base, "run"))
			return filepath.Join(base, "run", "app"), ""
		}, 0, nil},
		{"symlink to a directory writable by others", func(t *testing.T, base string) (string, string) {
			real := mkdir(t, filepath.Join(base, "real"), 0o775)
			link := filepath.Join(base, "link")
			os.Symlink("real", link)
			return link, real
		}, WritableByOthers, []string{"with links resolved", "real with links resolved) is owned by", "chmod 0700 "}},
		{"symlink loop", func(t *testing.T, base string) (string, string) {
			a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
			os.Symlink(b, a)
			os.Symlink(a, b)
			return filepath.Join(a, "tmp"), "?"
		}, TooManyLinks, []string{"more than 40 symbolic links"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			base, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			dir, atFault := c.setup(t, base)
			err = Ensure(dir, me)
			if c.problem == 0 {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				if st, err := os.Stat(dir); err != nil || !st.IsDir() || st.Mode().Perm()&0o022 != 0 {
					t.Fatalf("want a directory writable by its owner only at %s, got %v, %v", dir, st, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Problem != c.problem {
				t.Fatalf("want problem %d, got %v", c.problem, err)
			}
			if atFault != "?" && e.Dir != atFault {
				t.Errorf("want the error to name %s, got %s", atFault, e.Dir)
			}
			if e.Path != dir || !strings.HasPrefix(err.Error(), "unsafe directory "+dir+": ") {
				t.Errorf("want the message to start with the directory asked for, got %v", err)
			}
			for _, f := range c.message {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("want the message to contain %q, got:\n%v", f, err)
				}
			}
			if fi, serr := os.Lstat(atFault); atFault != "?" && serr == nil && fi.Mode().Perm() == 0o700 && fi.IsDir() && c.problem != OwnedByOther {
				t.Errorf("%s was chmod'ed to 0700; a refused directory must be left as it is", atFault)
			}
			if e.Dir != dir && c.problem != NotDirectory && c.problem != TooManyLinks {
				if _, serr := os.Lstat(dir); !errors.Is(serr, fs.ErrNotExist) && e.Problem == ParentWritable {
					t.Errorf("%s was created under a refused parent", dir)
				}
			}
		})
	}
}

func TestCheckCreatesNothing(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "tmp")
	if err := Check(dir, os.Geteuid()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("want fs.ErrNotExist, got %v", err)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Check created %s", dir)
	}
	mkdir(t, dir, 0o700)
	if err := Check(dir, os.Geteuid()); err != nil {
		t.Fatalf("want a private directory accepted, got %v", err)
	}
}

// attackDir is a directory layout the test user can write into the way an
// unprivileged user writes into /tmp: base (root, 0755) / shared (root,
// 1777).
func attackDir(t *testing.T) (shared string) {
	t.Helper()
	base, err := os.MkdirTemp("", "securedir")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	return mkdir(t, filepath.Join(base, "shared"), 0o777|fs.ModeSticky)
}

func owner(t *testing.T, p string) int {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return int(st.Sys().(*syscall.Stat_t).Uid)
}

func TestAnotherUsersDirectoriesAreRefused(t *testing.T) {
	u := testuser.Get(t)
	t.Parallel()
	who := fmt.Sprintf("%s (uid %d)", u.Name, u.UID)

	t.Run("RELEASE_TMP pre-created by the other user", func(t *testing.T) {
		t.Parallel()
		shared := attackDir(t)
		dir := filepath.Join(shared, "app-tmp")
		testuser.Run(t, "mkdir", dir, "0700")
		err := Ensure(dir, 0)
		wantUnsafe(t, err, dir, OwnedByOther, "owned by "+who, "mode 0700", "only root or the release's user root (uid 0)",
			"`chown root:root "+dir+" && chmod 0700 "+dir+"`")
		if got := owner(t, dir); got != u.UID {
			t.Errorf("the refused directory was chown'ed: owner %d", got)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 0 {
			t.Errorf("want nothing written into %s, got %d entries", dir, len(entries))
		}
	})

	t.Run("a parent owned by the other user", func(t *testing.T) {
		t.Parallel()
		shared := attackDir(t)
		parent := filepath.Join(shared, "mine")
		testuser.Run(t, "mkdir", parent, "0755")
		dir := filepath.Join(parent, "app", "tmp")
		err := Ensure(dir, 0)
		wantUnsafe(t, err, parent, OwnedByOther, "its parent "+parent+" is owned by "+who, "not under "+parent)
		if _, err := os.Lstat(filepath.Join(parent, "app")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a directory was created under the other user's %s", parent)
		}
	})

	t.Run("a symlink planted by the other user", func(t *testing.T) {
		t.Parallel()
		shared := attackDir(t)
		private := mkdir(t, filepath.Join(filepath.Dir(shared), "private"), 0o700)
		link := filepath.Join(shared, "app-tmp")
		testuser.Run(t, "symlink", private, link)
		err := Ensure(link, 0)
		wantUnsafe(t, err, link, OwnedByOther, "symbolic link "+link+" on its path is owned by "+who)
	})

	t.Run("the other user's own directory is theirs to use", func(t *testing.T) {
		t.Parallel()
		shared := attackDir(t)
		dir := filepath.Join(shared, "their-tmp")
		testuser.Run(t, "mkdir", dir, "0700")
		if err := Ensure(dir, u.UID); err != nil {
			t.Fatalf("for uid %d: want accepted, got %v", u.UID, err)
		}
		// Root's own directory is accepted for them too.
		rootDir := mkdir(t, filepath.Join(shared, "root-tmp"), 0o700)
		if err := Check(rootDir, u.UID); err != nil {
			t.Fatalf("a root-owned directory for uid %d: want accepted, got %v", u.UID, err)
		}
	})
}
