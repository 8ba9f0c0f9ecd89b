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

	"github.com/relkit/relkit/internal/securedir"
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

// MkdirPrivate makes dir a directory only the process's user and root
// control, creating it (mode 0700) when missing: it is
// securedir.Ensure(dir, os.Geteuid()). An existing directory that is open
// to others, owned by another user, or under a parent another user could
// change is refused with a *securedir.Error saying how to fix it; it is
// never chmod'ed.
func MkdirPrivate(dir string) error {
	return securedir.Ensure(dir, os.Geteuid())
}
