package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeTree creates a small release tree under a new temp dir and returns it.
func writeTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := []struct {
		path string
		data string
		mode os.FileMode
	}{
		{"releases/1.0.0/app", "#!binary", 0o755},
		{"releases/1.0.0/release.json", "{}", 0o644},
		{"etc/app.conf", "x=1\n", 0o644},
		{"bin/helper.sh", "#!/bin/sh\n", 0o700},
	}
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../releases/1.0.0/app", filepath.Join(root, "bin", "app")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestScan(t *testing.T) {
	t.Parallel()
	root := writeTree(t)
	got, err := Scan(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []File{
		{Path: "bin/app", Link: "../releases/1.0.0/app"},
		{Path: "bin/helper.sh", Size: 10, Mode: "0755", SHA256: ""},
		{Path: "etc/app.conf", Size: 4, Mode: "0644", SHA256: ""},
		{Path: "releases/1.0.0/app", Size: 8, Mode: "0755", SHA256: ""},
	}
	// Checksums come from HashFile, itself checked against a published vector.
	for i := range want {
		if want[i].Link == "" {
			sum, err := HashFile(filepath.Join(root, want[i].Path))
			if err != nil {
				t.Fatal(err)
			}
			want[i].SHA256 = sum
		}
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("Scan:\nwant %+v\ngot  %+v", want, got)
	}
}

func TestHashFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	// SHA-256("abc") from FIPS 180-2, appendix B.1.
	want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	got, err := HashFile(p)
	if err != nil || got != want {
		t.Fatalf("HashFile: want %s, got %s (err %v)", want, got, err)
	}
}

func TestScanRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(root string) error
		wantErr string
	}{
		{"absolute link", func(root string) error { return os.Symlink("/etc/passwd", filepath.Join(root, "x")) }, "absolute path"},
		{"escaping link", func(root string) error {
			if err := os.Mkdir(filepath.Join(root, "bin"), 0o755); err != nil {
				return err
			}
			return os.Symlink("../../outside", filepath.Join(root, "bin", "x"))
		}, "leaves the release tree"},
		{"named pipe", func(root string) error { return syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644) }, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			if err := tt.setup(root); err != nil {
				t.Fatal(err)
			}
			_, err := Scan(root)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Scan: want error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func newManifest(t *testing.T, root string) *Manifest {
	t.Helper()
	files, err := Scan(root)
	if err != nil {
		t.Fatal(err)
	}
	return &Manifest{
		Name: "app", Version: "1.0.0", OS: "linux", Arch: "amd64", GoVersion: "go1.24.0",
		VCS:             &VCS{System: "git", Revision: "0123abcd", Time: time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 7200))},
		BuildTime:       time.Unix(1714557600, 0),
		BuildTimeSource: BuildTimeFromVCS,
		Files:           files,
		Migrations:      []Migration{{File: "002_b.up.sql", SHA256: "bb"}, {File: "001_a.up.sql", SHA256: "aa"}},
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	t.Parallel()
	root := writeTree(t)
	m := newManifest(t, root)
	file := filepath.Join(root, "releases", "1.0.0", FileName)
	if err := m.Write(file); err != nil {
		t.Fatal(err)
	}
	got, err := Read(file)
	if err != nil {
		t.Fatal(err)
	}
	if want := "2024-05-01T10:00:00Z"; got.VCS.Time.Format(time.RFC3339) != want {
		t.Errorf("VCS time: want %s (UTC), got %s", want, got.VCS.Time.Format(time.RFC3339))
	}
	if got.Schema != Schema || got.Name != "app" || got.Target() != "linux/amd64" || got.Dir() != "releases/1.0.0" {
		t.Errorf("round trip: want schema %d app linux/amd64 releases/1.0.0, got %d %s %s %s", Schema, got.Schema, got.Name, got.Target(), got.Dir())
	}
	if want := []Migration{{"001_a.up.sql", "aa"}, {"002_b.up.sql", "bb"}}; !reflect.DeepEqual(want, got.Migrations) {
		t.Errorf("migrations sorted: want %v, got %v", want, got.Migrations)
	}
	// Writing the parsed manifest again gives the same bytes.
	a, _ := os.ReadFile(file)
	b, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Fatalf("Marshal is not stable:\nfirst  %s\nsecond %s", a, b)
	}
	if err := got.Verify(root); err != nil {
		t.Fatalf("Verify of an untouched tree: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, json, wantErr string
	}{
		{"newer schema", `{"schema":99,"name":"a","version":"1"}`, "upgrade relkit"},
		{"no schema", `{"name":"a","version":"1"}`, "not written by relkit build"},
		{"no version", `{"schema":1,"name":"a"}`, "lacks the release name or version"},
		{"unknown field", `{"schema":1,"name":"a","version":"1","surprise":true}`, "unknown field"},
		{"not json", `release`, "decode release.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse: want error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestVerifyFindsEveryProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(root string) error
		want   []Problem
	}{
		{"content changed, same size", func(root string) error {
			return os.WriteFile(filepath.Join(root, "etc/app.conf"), []byte("x=2\n"), 0o644)
		}, []Problem{{"etc/app.conf", "sha256"}}},
		{"file grew", func(root string) error {
			return os.WriteFile(filepath.Join(root, "releases/1.0.0/app"), []byte("#!binary+"), 0o755)
		}, []Problem{{"releases/1.0.0/app", "size 9, want 8"}}},
		{"file removed", func(root string) error {
			return os.Remove(filepath.Join(root, "bin/helper.sh"))
		}, []Problem{{"bin/helper.sh", "missing"}}},
		{"execute bit lost", func(root string) error {
			return os.Chmod(filepath.Join(root, "releases/1.0.0/app"), 0o644)
		}, []Problem{{"releases/1.0.0/app", "mode 0644, want 0755"}}},
		{"link retargeted", func(root string) error {
			l := filepath.Join(root, "bin/app")
			if err := os.Remove(l); err != nil {
				return err
			}
			return os.Symlink("../releases/0.9.0/app", l)
		}, []Problem{{"bin/app", "points to ../releases/0.9.0/app"}}},
		{"link replaced by file", func(root string) error {
			l := filepath.Join(root, "bin/app")
			if err := os.Remove(l); err != nil {
				return err
			}
			return os.WriteFile(l, nil, 0o755)
		}, []Problem{{"bin/app", "want a symbolic link"}}},
		{"two problems at once", func(root string) error {
			if err := os.Remove(filepath.Join(root, "etc/app.conf")); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(root, "bin/helper.sh"), []byte("#!/bin/bash"), 0o755)
		}, []Problem{{"bin/helper.sh", "size 11, want 10"}, {"etc/app.conf", "missing"}}},
		{"extra files are not examined", func(root string) error {
			return os.WriteFile(filepath.Join(root, "tmp/app.pid"), []byte("1"), 0o600)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := writeTree(t)
			m := newManifest(t, root)
			if err := tt.change(root); err != nil {
				t.Fatal(err)
			}
			err := m.Verify(root)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: want nil, got %v", err)
				}
				return
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || !errors.Is(err, ErrMismatch) {
				t.Fatalf("Verify: want *VerifyError matching ErrMismatch, got %v", err)
			}
			if len(ve.Problems) != len(tt.want) {
				t.Fatalf("Verify: want %d problems %v, got %v", len(tt.want), tt.want, ve.Problems)
			}
			for i, w := range tt.want {
				g := ve.Problems[i]
				if g.Path != w.Path || !strings.Contains(g.What, w.What) {
					t.Errorf("problem %d: want %s containing %q, got %s: %s", i, w.Path, w.What, g.Path, g.What)
				}
			}
			if !strings.Contains(err.Error(), "rebuild or unpack it again") {
				t.Errorf("error should say what to do next, got %q", err)
			}
		})
	}
}
