package reltar

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/manifest"
	"github.com/relkit/relkit/internal/relspec"
)

// Name returns the tarball file name for a release:
// NAME-VSN-OS-ARCH.tar.gz.
func Name(name, version, goos, goarch string) string {
	return relspec.TarballName(name, version, goos, goarch)
}

// Dirs are the empty directories every release tarball carries, for the
// running release's PID file, control socket and logs.
var Dirs = []string{"tmp", "log"}

// Write packs the release at root described by m into w as a reproducible
// gzip-compressed tar: exactly the files m lists, m's own release.json,
// their parent directories and the empty [Dirs]. Anything else under root
// (a PID file, logs, other releases) is left out. Every entry carries
// m.BuildTime (truncated to whole seconds). Call [manifest.Manifest.Verify]
// first: Write only checks sizes.
func Write(w io.Writer, root string, m *manifest.Manifest) error {
	entries, err := entries(m)
	if err != nil {
		return err
	}
	mtime := m.BuildTime.UTC().Truncate(time.Second)
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	// The gzip header stays empty: no name, no modification time; Go's
	// writer always records OS "unknown".
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.Path, ModTime: mtime, Format: tar.FormatPAX}
		switch {
		case strings.HasSuffix(e.Path, "/"):
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
			err = tw.WriteHeader(hdr)
		case e.Link != "":
			hdr.Typeflag, hdr.Mode, hdr.Linkname = tar.TypeSymlink, 0o777, e.Link
			err = tw.WriteHeader(hdr)
		default:
			hdr.Typeflag, hdr.Mode = tar.TypeReg, 0o644
			if e.Mode == "0755" {
				hdr.Mode = 0o755
			}
			err = writeFile(tw, hdr, filepath.Join(root, filepath.FromSlash(e.Path)))
		}
		if err != nil {
			return fmt.Errorf("pack %s: %w", root, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("pack %s: %w", root, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("pack %s: %w", root, err)
	}
	return nil
}

// entries lists the tarball's entries in order; directories end in "/".
func entries(m *manifest.Manifest) ([]manifest.File, error) {
	seen := map[string]bool{}
	var out []manifest.File
	addDirs := func(p string) {
		for d := path.Dir(p); d != "." && !seen[d+"/"]; d = path.Dir(d) {
			seen[d+"/"] = true
			out = append(out, manifest.File{Path: d + "/"})
		}
	}
	files := append([]manifest.File{}, m.Files...)
	files = append(files, manifest.File{Path: path.Join(m.Dir(), manifest.FileName)})
	for _, d := range Dirs {
		files = append(files, manifest.File{Path: d + "/"})
	}
	for _, f := range files {
		if !fs.ValidPath(strings.TrimSuffix(f.Path, "/")) {
			return nil, fmt.Errorf("release.json lists an invalid path %q; rebuild the release", f.Path)
		}
		if seen[f.Path] {
			continue
		}
		seen[f.Path] = true
		addDirs(f.Path)
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func writeFile(tw *tar.Writer, hdr *tar.Header, p string) error {
	// Lstat before opening: opening a named pipe would block.
	if info, err := os.Lstat(p); err != nil {
		return err
	} else if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is a %s, release.json says a regular file", p, info.Mode().Type())
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is a %s, release.json says a regular file", p, info.Mode().Type())
	}
	hdr.Size = info.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.Copy(tw, f)
	if err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	if n != info.Size() {
		return fmt.Errorf("%s changed size while being packed", p)
	}
	return nil
}

// WriteFile packs the release at root into the file at dst (see [Write]), then writes
// dst.sha256 next to it (see [WriteChecksum]), and returns the tarball's
// hex SHA-256. The tarball is written to a temporary file and renamed, so
// dst is never left half-written.
func WriteFile(dst, root string, m *manifest.Manifest) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".reltar-*")
	if err != nil {
		return "", fmt.Errorf("create tarball: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if err := Write(io.MultiWriter(tmp, h), root, m); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", dst, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("write %s: %w", dst, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := WriteChecksum(dst, sum); err != nil {
		return "", err
	}
	return sum, nil
}

// WriteChecksum writes FILE.sha256 containing "SUM  BASENAME\n", the format
// of sha256sum(1), so `sha256sum -c FILE.sha256` checks FILE in its
// directory.
func WriteChecksum(file, sum string) error {
	line := fmt.Sprintf("%s  %s\n", sum, filepath.Base(file))
	if err := os.WriteFile(file+".sha256", []byte(line), 0o644); err != nil {
		return fmt.Errorf("write checksum: %w", err)
	}
	return nil
}
