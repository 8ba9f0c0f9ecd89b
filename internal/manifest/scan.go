package manifest

import (
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
)

// Scan lists every regular file and symbolic link under root, as [File]
// entries sorted by path. Manifests at releases/*/release.json are left
// out. A regular file is recorded with mode "0755" when any execute bit is
// set and "0644" otherwise. Scan fails on anything else (devices, sockets,
// pipes) and on absolute symbolic links or links leaving root, which would
// not survive unpacking the release elsewhere.
func Scan(root string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch t := d.Type(); {
		case t.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := checkLink(rel, target); err != nil {
				return err
			}
			files = append(files, File{Path: rel, Link: filepath.ToSlash(target)})
			return nil
		case t.IsRegular():
			if isManifest(rel) {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			sum, size, err := hashFile(p)
			if err != nil {
				return err
			}
			files = append(files, File{Path: rel, Size: size, Mode: modeString(info.Mode()), SHA256: sum})
			return nil
		default:
			return fmt.Errorf("%s: %s is not a regular file, directory or symbolic link; a release cannot carry it", p, t)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("scan release %s: %w", root, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// checkLink rejects link targets that are absolute or leave the tree.
func checkLink(rel, target string) error {
	if filepath.IsAbs(target) || strings.HasPrefix(target, "/") {
		return fmt.Errorf("%s: symbolic link to absolute path %s; make it relative", rel, target)
	}
	resolved := path.Join(path.Dir(rel), filepath.ToSlash(target))
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("%s: symbolic link %s leaves the release tree", rel, target)
	}
	return nil
}

func isManifest(rel string) bool {
	parts := strings.Split(rel, "/")
	return len(parts) == 3 && parts[0] == "releases" && parts[2] == FileName
}

func modeString(m fs.FileMode) string {
	if m.Perm()&0o111 != 0 {
		return "0755"
	}
	return "0644"
}

// HashFile returns the hex SHA-256 of the file at p.
func HashFile(p string) (string, error) {
	sum, _, err := hashFile(p)
	return sum, err
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
