package testkit

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// T is the part of testing.TB the file helpers use, so that runnable
// examples can call them with a T of their own.
type T interface {
	Helper()
	Fatal(args ...any)
}

// Unavailable skips t because something it needs is missing here (a
// server, a package, root), or fails it when CI=true, where everything
// must be present.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and "+format, args...)
	}
	t.Skipf(format, args...)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ShortTempDir returns a new directory under os.TempDir with a short name,
// removed when t ends: Unix socket paths are limited to 107 bytes, and
// t.TempDir's are long.
func ShortTempDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "rk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// Snapshot describes every entry under root but the top-level names in
// skip: type, permissions, a content hash or a link target. Two equal
// snapshots mean nothing was changed (modification times aside).
func Snapshot(t T, root string, skip ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		for _, s := range skip {
			if rel == s {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "link " + target
		case d.IsDir():
			out[rel] = fmt.Sprintf("dir %o", info.Mode().Perm())
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			out[rel] = fmt.Sprintf("%s %o %s", info.Mode().Type(), info.Mode().Perm(), hex.EncodeToString(sum[:8]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Diff lists, sorted, what differs between two snapshots; "" when they
// are equal.
func Diff(before, after map[string]string) string {
	var lines []string
	for p, b := range before {
		if a, ok := after[p]; !ok {
			lines = append(lines, "removed "+p)
		} else if a != b {
			lines = append(lines, fmt.Sprintf("changed %s: %s -> %s", p, b, a))
		}
	}
	for p, a := range after {
		if _, ok := before[p]; !ok {
			lines = append(lines, "added "+p+": "+a)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TarEntry is one entry of a tarball [TarGz] writes.
type TarEntry struct {
	Name string
	// Type is a tar type flag; 0 means a regular file, or a directory
	// when Name ends in "/".
	Type byte
	// Mode defaults to 0644 for files, 0755 for directories, 0777 for
	// links.
	Mode int64
	Body string // a regular file's content
	Link string // a link's target
}

// TarGz encodes entries as a gzip-compressed tar, in the order given.
func TarGz(t T, entries []TarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ, mode := e.Type, e.Mode
		if typ == 0 {
			typ = tar.TypeReg
			if strings.HasSuffix(e.Name, "/") {
				typ = tar.TypeDir
			}
		}
		if mode == 0 {
			switch typ {
			case tar.TypeDir:
				mode = 0o755
			case tar.TypeSymlink, tar.TypeLink:
				mode = 0o777
			default:
				mode = 0o644
			}
		}
		hdr := &tar.Header{Name: e.Name, Typeflag: typ, Mode: mode, Linkname: e.Link, ModTime: time.Unix(1714564800, 0), Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		if typ == tar.TypeChar {
			hdr.Devmajor, hdr.Devminor = 1, 3
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// WriteWithChecksum writes data to file (creating its directory) and the
// SHA-256 of sumOf to file.sha256, in sha256sum(1)'s format. Pass data as
// sumOf for a matching checksum.
func WriteWithChecksum(t T, file string, data, sumOf []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(sumOf)
	line := hex.EncodeToString(sum[:]) + "  " + filepath.Base(file) + "\n"
	if err := os.WriteFile(file+".sha256", []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

// LookPath returns the path of the program name, or calls [Unavailable]
// naming the Debian package that has it.
func LookPath(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s is not installed (apt-get install %s)", name, debianPackage)
	}
	return p
}
