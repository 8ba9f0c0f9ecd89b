// Package layout knows where a release keeps its files.
//
// An assembled release (relkit build) looks like Exrm's:
//
//	ROOT/
//	  bin/NAME                 symlink to ../releases/VSN/NAME (the current release)
//	  releases/VSN/NAME        the binary of release VSN
//	  releases/VSN/release.json
//	  releases/RELEASES        which versions are unpacked, current, permanent
//	  tmp/                     PID file, control socket (RELEASE_TMP)
//	  log/                     log files (RELEASE_LOG_DIR)
//
// The root is found from the binary's own path with symlinks resolved, never
// from the caller's working directory, so a release runs from wherever it is
// unpacked and through a symlinked bin/. A binary that is not inside such a
// tree (go run, go build in development) uses the working directory.
package layout

import (
	"fmt"
	"os"
	"path/filepath"
)

// Layout is the set of directories a running release uses.
type Layout struct {
	// Root is RELEASE_ROOT.
	Root string
	// Tmp holds the PID file and the control socket (RELEASE_TMP).
	Tmp string
	// Log holds log files (RELEASE_LOG_DIR).
	Log string
	// Assembled reports whether the binary runs from releases/VSN/ of an
	// assembled release rather than from a development build.
	Assembled bool
}

// Resolve computes the layout for the binary at executable (as returned by
// os.Executable) running in working directory cwd, with the overrides
// RELEASE_ROOT, RELEASE_TMP and RELEASE_LOG_DIR taken from env.
func Resolve(executable, cwd string, env map[string]string) (Layout, error) {
	var l Layout
	if exe, err := filepath.EvalSymlinks(executable); err == nil {
		executable = exe
	}
	if root, ok := RootOf(executable); ok {
		l.Root, l.Assembled = root, true
	} else {
		l.Root = cwd
	}
	if v := env["RELEASE_ROOT"]; v != "" {
		l.Root = v
	}
	if !filepath.IsAbs(l.Root) {
		abs, err := filepath.Abs(filepath.Join(cwd, l.Root))
		if err != nil {
			return Layout{}, fmt.Errorf("RELEASE_ROOT %q: %w", l.Root, err)
		}
		l.Root = abs
	}
	l.Tmp = dirOr(env["RELEASE_TMP"], l.Root, "tmp")
	l.Log = dirOr(env["RELEASE_LOG_DIR"], l.Root, "log")
	return l, nil
}

func dirOr(v, root, def string) string {
	switch {
	case v == "":
		return filepath.Join(root, def)
	case filepath.IsAbs(v):
		return v
	default:
		return filepath.Join(root, v)
	}
}

// RootOf returns the release root for a binary at ROOT/releases/VSN/NAME,
// and false for a binary anywhere else.
func RootOf(executable string) (string, bool) {
	vsnDir := filepath.Dir(executable)
	relDir := filepath.Dir(vsnDir)
	if filepath.Base(relDir) != "releases" || vsnDir == relDir {
		return "", false
	}
	return filepath.Dir(relDir), true
}

// Release returns the directory of release vsn under root.
func Release(root, vsn string) string { return filepath.Join(root, "releases", vsn) }

// Binary returns the path of release vsn's binary named name under root.
func Binary(root, vsn, name string) string { return filepath.Join(Release(root, vsn), name) }

// MkdirPrivate creates dir (and parents) readable only by its owner, and
// tightens an existing dir to 0700.
func MkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restrict %s to its owner: %w", dir, err)
	}
	return nil
}
