package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// Entry is one file, directory or symbolic link of a layer.
type Entry struct {
	// Path is slash-separated and relative to the image's root, e.g.
	// "app/bin/links". Parent directories missing from the layer are
	// added, owned by root with mode 0755.
	Path string
	// Type is fs.ModeDir, fs.ModeSymlink or 0 for a regular file.
	Type fs.FileMode
	// Mode holds the permission bits. Default 0644 for files, 0755 for
	// directories, 0777 for links.
	Mode fs.FileMode
	// UID and GID own the entry. Default 0 (root).
	UID, GID int
	// Link is a symbolic link's target.
	Link string
	// Source is the file on disk holding a regular file's content, when
	// Data is nil.
	Source string
	// Data is a regular file's content.
	Data []byte
}

// layer is a compressed layer blob with the digest of its uncompressed
// content (the config's diff ID).
type layer struct {
	blob   []byte
	diffID string
}

// buildLayer packs entries into a reproducible gzip-compressed tar.
func buildLayer(entries []Entry, mtime time.Time) (*layer, error) {
	all, err := withParents(entries)
	if err != nil {
		return nil, err
	}
	var compressed bytes.Buffer
	zw, err := gzip.NewWriterLevel(&compressed, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	raw := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, raw))
	for _, e := range all {
		hdr := &tar.Header{Name: e.Path, ModTime: mtime, Uid: e.UID, Gid: e.GID, Mode: int64(e.Mode.Perm()), Format: tar.FormatPAX}
		var body io.Reader
		switch e.Type {
		case fs.ModeDir:
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
			if e.Mode == 0 {
				hdr.Mode = 0o755
			}
		case fs.ModeSymlink:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.Link
			if e.Mode == 0 {
				hdr.Mode = 0o777
			}
		case 0:
			hdr.Typeflag = tar.TypeReg
			if e.Mode == 0 {
				hdr.Mode = 0o644
			}
			data := e.Data
			if data == nil && e.Source != "" {
				if data, err = os.ReadFile(e.Source); err != nil {
					return nil, fmt.Errorf("layer entry %s: %w", e.Path, err)
				}
			}
			hdr.Size = int64(len(data))
			body = bytes.NewReader(data)
		default:
			return nil, fmt.Errorf("layer entry %s: unsupported type %v (want a file, directory or symbolic link)", e.Path, e.Type)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", e.Path, err)
		}
		if body != nil {
			if _, err := io.Copy(tw, body); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return &layer{blob: compressed.Bytes(), diffID: "sha256:" + hex.EncodeToString(raw.Sum(nil))}, nil
}

// withParents validates entries, adds missing parent directories and
// sorts the result by path.
func withParents(entries []Entry) ([]Entry, error) {
	byPath := map[string]Entry{}
	for _, e := range entries {
		p := strings.TrimSuffix(e.Path, "/")
		if !fs.ValidPath(p) || p == "." {
			return nil, fmt.Errorf("layer entry %q: want a relative slash-separated path without . or .. elements", e.Path)
		}
		if _, dup := byPath[p]; dup {
			return nil, fmt.Errorf("layer entry %s appears twice", p)
		}
		e.Path = p
		byPath[p] = e
	}
	for p := range byPath {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if parent, ok := byPath[d]; ok {
				if parent.Type != fs.ModeDir {
					return nil, fmt.Errorf("layer entry %s is inside %s, which is not a directory", p, d)
				}
				continue
			}
			byPath[d] = Entry{Path: d, Type: fs.ModeDir}
		}
	}
	out := make([]Entry, 0, len(byPath))
	for _, e := range byPath {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}
