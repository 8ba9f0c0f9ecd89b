package assemble

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/manifest"
)

func fakeBinary(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "built")
	if err := os.WriteFile(p, []byte("\x7fELF fake binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func options(t *testing.T, dir, overlays string) Options {
	return Options{Dir: dir, Binary: fakeBinary(t), Overlays: overlays, Manifest: manifest.Manifest{
		Name: "app", Version: "1.0.0", OS: "linux", Arch: "amd64", BuildTime: time.Unix(1700000000, 0),
	}}
}

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for f, data := range files {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAssemble(t *testing.T) {
	t.Parallel()
	overlays := t.TempDir()
	write(t, overlays, map[string]string{"etc/app.conf": "x=1\n", "bin/console": "#!/bin/sh\n"})
	if err := os.Chmod(filepath.Join(overlays, "bin/console"), 0o750); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "rel", "app")
	m, err := Assemble(options(t, dir, overlays))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path+":"+f.Mode+f.Link)
	}
	want := "bin/app:../releases/1.0.0/app bin/console:0755 etc/app.conf:0644 releases/1.0.0/app:0755"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("files:\nwant %s\ngot  %s", want, got)
	}
	onDisk, err := manifest.Read(filepath.Join(dir, "releases", "1.0.0", manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := onDisk.Verify(dir); err != nil {
		t.Error(err)
	}
	for _, d := range []string{"tmp", "log"} {
		info, err := os.Stat(filepath.Join(dir, d))
		if err != nil || info.Mode().Perm() != 0o700 {
			t.Errorf("%s: want a private directory, got %v", d, err)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".app.new-*")); len(leftovers) > 0 {
		t.Errorf("staging directories left behind: %v", leftovers)
	}

	// A second assembly replaces the first, dropping files it no longer has.
	if err := os.WriteFile(filepath.Join(dir, "tmp", "app.pid"), []byte("1"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := options(t, dir, "")
	opts.Manifest.Version = "1.1.0"
	if _, err := Assemble(opts); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"releases/1.0.0", "etc/app.conf", "tmp/app.pid"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: want removed by the new assembly, got %v", gone, err)
		}
	}
	if link, _ := os.Readlink(filepath.Join(dir, "bin", "app")); link != "../releases/1.1.0/app" {
		t.Errorf("bin/app: want ../releases/1.1.0/app, got %q", link)
	}
}

func TestAssembleRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		setup    func(t *testing.T) (dir, overlays string)
		want     string
		wantIs   error
		keepFile string // must survive the refusal
	}{
		{"destination is not a release", func(t *testing.T) (string, string) {
			dir := t.TempDir()
			write(t, dir, map[string]string{"precious.txt": "keep me"})
			return dir, ""
		}, "not a release", ErrNotARelease, "precious.txt"},
		{"overlay replaces the binary link", func(t *testing.T) (string, string) {
			o := t.TempDir()
			write(t, o, map[string]string{"bin/app": "evil"})
			return filepath.Join(t.TempDir(), "app"), o
		}, "bin/app would replace part of the release", nil, ""},
		{"overlay writes into releases", func(t *testing.T) (string, string) {
			o := t.TempDir()
			write(t, o, map[string]string{"releases/1.0.0/extra": "x"})
			return filepath.Join(t.TempDir(), "app"), o
		}, "overlays: releases would replace part of the release", nil, ""},
		{"overlay with a symlink", func(t *testing.T) (string, string) {
			o := t.TempDir()
			if err := os.Symlink("/etc/passwd", filepath.Join(o, "passwd")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(t.TempDir(), "app"), o
		}, "overlays hold only directories and regular files", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, overlays := tt.setup(t)
			_, err := Assemble(options(t, dir, overlays))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want error %q, got %v", tt.want, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("want errors.Is %v", tt.wantIs)
			}
			if tt.keepFile != "" {
				if _, err := os.Stat(filepath.Join(dir, tt.keepFile)); err != nil {
					t.Errorf("%s: want untouched, got %v", tt.keepFile, err)
				}
			}
			if tt.keepFile == "" {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: want nothing created after a refusal, got %v", dir, err)
				}
			}
		})
	}
}
