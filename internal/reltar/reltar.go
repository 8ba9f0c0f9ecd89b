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
	"path/filepath"
	"time"
)

// Name returns the tarball file name for a release:
// NAME-VSN-OS-ARCH.tar.gz.
func Name(name, version, goos, goarch string) string {
	return fmt.Sprintf("%s-%s-%s-%s.tar.gz", name, version, goos, goarch)
}

// Write packs the tree at root into w as a reproducible gzip-compressed tar
// whose entries all carry mtime (truncated to whole seconds). It fails on
// anything but directories, regular files and symbolic links.
func Write(w io.Writer, root string, mtime time.Time) error {
	mtime = mtime.UTC().Truncate(time.Second)
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	// The gzip header stays empty: no name, no modification time; Go's
	// writer always records OS "unknown".
	tw := tar.NewWriter(zw)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		hdr := &tar.Header{
			Name:    filepath.ToSlash(rel),
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		switch t := d.Type(); {
		case t.IsDir():
			hdr.Typeflag, hdr.Mode, hdr.Name = tar.TypeDir, 0o755, hdr.Name+"/"
			return tw.WriteHeader(hdr)
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			hdr.Typeflag, hdr.Mode, hdr.Linkname = tar.TypeSymlink, 0o777, filepath.ToSlash(target)
			return tw.WriteHeader(hdr)
		case t.IsRegular():
			return writeFile(tw, hdr, p)
		default:
			return fmt.Errorf("%s is a %s; a release tarball holds only directories, regular files and symbolic links", p, t)
		}
	})
	if err != nil {
		return fmt.Errorf("pack %s: %w", root, err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("pack %s: %w", root, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("pack %s: %w", root, err)
	}
	return nil
}

func writeFile(tw *tar.Writer, hdr *tar.Header, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	hdr.Typeflag, hdr.Size, hdr.Mode = tar.TypeReg, info.Size(), 0o644
	if info.Mode().Perm()&0o111 != 0 {
		hdr.Mode = 0o755
	}
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

// WriteFile packs root into the file at dst (see [Write]), then writes
// dst.sha256 next to it (see [WriteChecksum]), and returns the tarball's
// hex SHA-256. The tarball is written to a temporary file and renamed, so
// dst is never left half-written.
func WriteFile(dst, root string, mtime time.Time) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".reltar-*")
	if err != nil {
		return "", fmt.Errorf("create tarball: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if err := Write(io.MultiWriter(tmp, h), root, mtime); err != nil {
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
