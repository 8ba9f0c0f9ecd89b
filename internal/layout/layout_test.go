package layout

import (
	"os"
	"path/filepath"
	"testing"
)

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
	dir := filepath.Join(t.TempDir(), "a", "tmp")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
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
}
