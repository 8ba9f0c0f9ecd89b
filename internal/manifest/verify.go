package manifest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Verify checks every file the manifest lists against the tree at root:
// each regular file must exist with the recorded size and SHA-256 and be
// executable exactly when its mode says so; each symbolic link must point
// where it did. Files under root that the manifest does not list (other
// releases, tmp/, log/) are not examined. The returned error is a
// [*VerifyError] listing every problem, and matches [ErrMismatch].
func (m *Manifest) Verify(root string) error {
	var problems []Problem
	add := func(p, format string, args ...any) {
		problems = append(problems, Problem{Path: p, What: fmt.Sprintf(format, args...)})
	}
	for _, f := range m.Files {
		if !fs.ValidPath(f.Path) {
			add(f.Path, "invalid path in release.json")
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		info, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			add(f.Path, "missing")
			continue
		}
		if err != nil {
			add(f.Path, "%v", err)
			continue
		}
		if f.Link != "" {
			if info.Mode()&fs.ModeSymlink == 0 {
				add(f.Path, "want a symbolic link to %s, got %s", f.Link, info.Mode().Type())
				continue
			}
			target, err := os.Readlink(p)
			if err != nil {
				add(f.Path, "%v", err)
			} else if filepath.ToSlash(target) != f.Link {
				add(f.Path, "symbolic link points to %s, want %s", target, f.Link)
			}
			continue
		}
		if !info.Mode().IsRegular() {
			add(f.Path, "want a regular file, got %s", info.Mode().Type())
			continue
		}
		if info.Size() != f.Size {
			add(f.Path, "size %d, want %d", info.Size(), f.Size)
			continue
		}
		if got := modeString(info.Mode()); got != f.Mode {
			add(f.Path, "mode %s, want %s", got, f.Mode)
		}
		sum, err := HashFile(p)
		if err != nil {
			add(f.Path, "%v", err)
		} else if sum != f.SHA256 {
			add(f.Path, "sha256 %s, want %s", sum, f.SHA256)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Path < problems[j].Path })
	return &VerifyError{Root: root, Problems: problems}
}
