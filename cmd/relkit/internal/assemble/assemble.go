package assemble

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/relkit/relkit/internal/layout"
	"github.com/relkit/relkit/internal/manifest"
)

// ErrNotARelease is returned when the destination exists but does not look
// like a release directory, so Assemble will not replace it.
var ErrNotARelease = errors.New("destination exists and is not a release (no releases/ directory): remove it or choose another output directory")

// Options describe one release to assemble.
type Options struct {
	// Dir is the release root to create. An existing release there is
	// replaced. Required.
	Dir string
	// Binary is the built binary to install as releases/VSN/NAME. Required.
	Binary string
	// Overlays is a directory whose contents are copied into the release
	// root. Default "": no overlays.
	Overlays string
	// Manifest carries the release's metadata (Name and Version are
	// required); Assemble fills in Files.
	Manifest manifest.Manifest
	// ReleaseFiles are more files written into releases/VSN/ (mode 0644),
	// keyed by file name, e.g. the SBOM. Default nil: none.
	ReleaseFiles map[string][]byte
}

// Assemble creates the release described by opts and returns its manifest.
func Assemble(opts Options) (*manifest.Manifest, error) {
	m := opts.Manifest
	if m.Name == "" || m.Version == "" {
		return nil, errors.New("assemble: release name and version are required")
	}
	if info, err := os.Lstat(opts.Dir); err == nil {
		if !info.IsDir() {
			return nil, fmt.Errorf("%s: %w", opts.Dir, ErrNotARelease)
		}
		if rel, err := os.Stat(filepath.Join(opts.Dir, "releases")); err != nil || !rel.IsDir() {
			return nil, fmt.Errorf("%s: %w", opts.Dir, ErrNotARelease)
		}
	}
	parent := filepath.Dir(opts.Dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(opts.Dir)+".new-")
	if err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	defer os.RemoveAll(stage)
	if err := os.Chmod(stage, 0o755); err != nil {
		return nil, err
	}

	if err := populate(stage, opts, &m); err != nil {
		return nil, err
	}

	if err := replace(opts.Dir, stage); err != nil {
		return nil, err
	}
	return &m, nil
}

func populate(root string, opts Options, m *manifest.Manifest) error {
	relDir := layout.Release(root, m.Version)
	for _, d := range []string{filepath.Join(root, "bin"), relDir} {
		if err := mkdir(d); err != nil {
			return err
		}
	}
	for _, d := range []string{filepath.Join(root, "tmp"), filepath.Join(root, "log")} {
		if err := layout.MkdirPrivate(d); err != nil {
			return err
		}
	}
	if opts.Overlays != "" {
		if err := copyOverlays(opts.Overlays, root, m); err != nil {
			return err
		}
	}
	if err := copyFile(opts.Binary, layout.Binary(root, m.Version, m.Name), 0o755); err != nil {
		return fmt.Errorf("install binary: %w", err)
	}
	for name, data := range opts.ReleaseFiles {
		if name == m.Name || name == manifest.FileName || strings.ContainsAny(name, `/\`) {
			return fmt.Errorf("release file %q would replace part of the release", name)
		}
		file := filepath.Join(relDir, name)
		if err := os.WriteFile(file, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := os.Chmod(file, 0o644); err != nil {
			return err
		}
	}
	link := path.Join("..", "releases", m.Version, m.Name)
	if err := os.Symlink(link, filepath.Join(root, "bin", m.Name)); err != nil {
		return fmt.Errorf("link bin/%s: %w", m.Name, err)
	}
	files, err := manifest.Scan(root)
	if err != nil {
		return err
	}
	m.Files = files
	if err := m.Write(filepath.Join(relDir, manifest.FileName)); err != nil {
		return err
	}
	return m.Verify(root)
}

// replace swaps stage in at dir, removing a previous release there.
func replace(dir, stage string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(stage, dir); err != nil {
			return fmt.Errorf("move release into place: %w", err)
		}
		return nil
	}
	old := stage + ".old"
	if err := os.Rename(dir, old); err != nil {
		return fmt.Errorf("move previous release %s aside: %w", dir, err)
	}
	if err := os.Rename(stage, dir); err != nil {
		_ = os.Rename(old, dir)
		return fmt.Errorf("move release into place: %w", err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("remove previous release: %w", err)
	}
	return nil
}

// copyOverlays copies the tree at src into root. It refuses symbolic links
// and anything that would replace the release's own entries.
func copyOverlays(src, root string, m *manifest.Manifest) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("overlays: %w", err)
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		slash := filepath.ToSlash(rel)
		if reserved(slash, m.Name) {
			return fmt.Errorf("overlays: %s would replace part of the release itself (releases/, bin/%s, tmp/, log/); move it elsewhere in %s", slash, m.Name, src)
		}
		dst := filepath.Join(root, rel)
		switch t := d.Type(); {
		case t.IsDir():
			if slash == "bin" {
				return nil
			}
			return mkdir(dst)
		case t.IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			mode := os.FileMode(0o644)
			if info.Mode().Perm()&0o111 != 0 {
				mode = 0o755
			}
			return copyFile(p, dst, mode)
		default:
			return fmt.Errorf("overlays: %s is a %s; overlays hold only directories and regular files (copy the file the link points to instead)", p, t)
		}
	})
}

func reserved(rel, name string) bool {
	first, _, _ := strings.Cut(rel, "/")
	switch first {
	case "releases", "tmp", "log":
		return true
	}
	return rel == "bin/"+name
}

func mkdir(d string) error {
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	return os.Chmod(d, 0o755)
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Chmod(mode); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
