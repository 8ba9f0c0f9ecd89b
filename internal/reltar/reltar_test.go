package reltar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/manifest"
)

var buildTime = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// writeTree creates the same release tree under a fresh directory, with
// modification times and permission bits that differ between calls.
func writeTree(t *testing.T, fileMode os.FileMode, mtime time.Time) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"bin", "releases/1.0.0", "tmp", "etc/conf.d"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]os.FileMode{
		"releases/1.0.0/app":  0o700 | fileMode,
		"etc/conf.d/app.conf": 0o600 | fileMode&0o044,
	}
	for f, mode := range files {
		p := filepath.Join(root, f)
		if err := os.WriteFile(p, []byte("content of "+f), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../releases/1.0.0/app", filepath.Join(root, "bin", "app")); err != nil {
		t.Fatal(err)
	}
	m := releaseManifest(t, root)
	if err := m.Write(filepath.Join(root, "releases", "1.0.0", manifest.FileName)); err != nil {
		t.Fatal(err)
	}
	// What a release run from this directory leaves behind, and another
	// release: none of it belongs in the tarball.
	for f, data := range map[string]string{"tmp/app.pid": "42", "releases/0.9.0/app": "old"} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func releaseManifest(t *testing.T, root string) *manifest.Manifest {
	t.Helper()
	files, err := manifest.Scan(root)
	if err != nil {
		t.Fatal(err)
	}
	return &manifest.Manifest{Name: "app", Version: "1.0.0", OS: "linux", Arch: "arm64",
		BuildTime: buildTime.Add(300 * time.Millisecond), Files: files}
}

func pack(t *testing.T, root string) []byte {
	t.Helper()
	m, err := manifest.Read(filepath.Join(root, "releases", "1.0.0", manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, root, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteIsReproducible(t *testing.T) {
	t.Parallel()
	a := pack(t, writeTree(t, 0o055, time.Now()))
	b := pack(t, writeTree(t, 0o000, time.Unix(0, 0)))
	if !bytes.Equal(a, b) {
		t.Fatalf("two packs of the same tree differ: %d and %d bytes", len(a), len(b))
	}
}

func TestWriteHeaders(t *testing.T) {
	t.Parallel()
	data := pack(t, writeTree(t, 0o055, time.Now()))
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || zr.Comment != "" || !zr.ModTime.IsZero() || zr.OS != 255 {
		t.Errorf("gzip header: want no name, no comment, zero mtime, OS 255; got %q %q %v %d", zr.Name, zr.Comment, zr.ModTime, zr.OS)
	}
	type entry struct {
		name string
		typ  byte
		mode int64
		link string
	}
	want := []entry{
		{"bin/", tar.TypeDir, 0o755, ""},
		{"bin/app", tar.TypeSymlink, 0o777, "../releases/1.0.0/app"},
		{"etc/", tar.TypeDir, 0o755, ""},
		{"etc/conf.d/", tar.TypeDir, 0o755, ""},
		{"etc/conf.d/app.conf", tar.TypeReg, 0o644, ""},
		{"log/", tar.TypeDir, 0o755, ""},
		{"releases/", tar.TypeDir, 0o755, ""},
		{"releases/1.0.0/", tar.TypeDir, 0o755, ""},
		{"releases/1.0.0/app", tar.TypeReg, 0o755, ""},
		{"releases/1.0.0/release.json", tar.TypeReg, 0o644, ""},
		{"tmp/", tar.TypeDir, 0o755, ""},
	}
	tr := tar.NewReader(zr)
	var got []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, entry{h.Name, h.Typeflag, h.Mode, h.Linkname})
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: want uid/gid 0 and no names, got %d/%d %q/%q", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(buildTime) {
			t.Errorf("%s: want mtime %v, got %v", h.Name, buildTime, h.ModTime)
		}
		if len(h.PAXRecords) != 0 {
			t.Errorf("%s: want no PAX records (they may carry host data), got %v", h.Name, h.PAXRecords)
		}
		if h.Typeflag == tar.TypeReg && h.Name != "releases/1.0.0/release.json" {
			body, _ := io.ReadAll(tr)
			if want := "content of " + h.Name; string(body) != want {
				t.Errorf("%s: want content %q, got %q", h.Name, want, body)
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("entries:\nwant %v\ngot  %v", want, got)
	}
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("entry %d: want %+v, got %+v", i, want[i], got[i])
		}
	}
}

func TestWriteRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   []manifest.File
		setup   func(root string) error
		wantErr string
	}{
		{"pipe where the manifest says file", []manifest.File{{Path: "fifo", Mode: "0644"}},
			func(root string) error { return syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644) },
			"release.json says a regular file"},
		{"path leaving the root", []manifest.File{{Path: "../etc/passwd", Mode: "0644"}},
			func(string) error { return nil }, "invalid path"},
		{"file missing", []manifest.File{{Path: "gone", Mode: "0644"}},
			func(string) error { return nil }, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			if err := tt.setup(root); err != nil {
				t.Fatal(err)
			}
			m := &manifest.Manifest{Name: "app", Version: "1.0.0", Files: tt.files}
			err := Write(io.Discard, root, m)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Write: want error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestWriteFileAndChecksum(t *testing.T) {
	t.Parallel()
	root := writeTree(t, 0, time.Now())
	out := t.TempDir()
	dst := filepath.Join(out, Name("app", "1.0.0", "linux", "arm64"))
	if want := "app-1.0.0-linux-arm64.tar.gz"; filepath.Base(dst) != want {
		t.Fatalf("Name: want %s, got %s", want, filepath.Base(dst))
	}
	m, err := manifest.Read(filepath.Join(root, "releases", "1.0.0", manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := WriteFile(dst, root, m)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	if got := hex.EncodeToString(h[:]); got != sum {
		t.Fatalf("WriteFile returned sum %s, file hashes to %s", sum, got)
	}
	line, err := os.ReadFile(dst + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	if want := sum + "  app-1.0.0-linux-arm64.tar.gz\n"; string(line) != want {
		t.Fatalf(".sha256: want %q, got %q", want, line)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(out, ".reltar-*")); len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
	// The system's own tools accept both files.
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "-c", filepath.Base(dst)+".sha256")
		cmd.Dir = out
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, b)
		}
	}
	if _, err := exec.LookPath("tar"); err == nil {
		dest := t.TempDir()
		if b, err := exec.Command("tar", "-xzf", dst, "-C", dest).CombinedOutput(); err != nil {
			t.Fatalf("tar -xzf: %v\n%s", err, b)
		}
		body, err := os.ReadFile(filepath.Join(dest, "bin", "app"))
		if err != nil || string(body) != "content of releases/1.0.0/app" {
			t.Fatalf("unpacked bin/app through its link: want the binary's content, got %q (%v)", body, err)
		}
	}
}
