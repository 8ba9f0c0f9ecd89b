package install_test

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/manifest"
	"github.com/relkit/relkit/internal/testkit"
)

// tb is the part of testing.TB the helpers use, so that examples can use
// them too (see exampleT).
type tb interface {
	Helper()
	Fatal(args ...any)
	TempDir() string
}

// exampleT lets an example call the helpers: Fatal panics, TempDir
// directories are removed by cleanup.
type exampleT struct{ dirs []string }

func (*exampleT) Helper()           {}
func (*exampleT) Fatal(args ...any) { panic(fmt.Sprint(args...)) }
func (e *exampleT) TempDir() string {
	d, err := os.MkdirTemp("", "relkit-example-")
	if err != nil {
		panic(err)
	}
	e.dirs = append(e.dirs, d)
	return d
}
func (e *exampleT) cleanup() {
	for _, d := range e.dirs {
		os.RemoveAll(d)
	}
}

// rel describes a release built for a test.
type rel struct {
	name, vsn string
	// binary is the content of releases/VSN/NAME; default a shell script
	// printing "NAME VSN".
	binary string
	// extra are more files under releases/VSN/, by relative path; those in
	// executable get mode 0755.
	extra      map[string]string
	executable []string
	// links are symbolic links under releases/VSN/: path -> target.
	links map[string]string
	// overlays are files at the release root (from rel/overlays), by
	// slash path.
	overlays map[string]string
	// migrations are listed in release.json.
	migrations []string
	// edit changes the manifest before it is written.
	edit func(*manifest.Manifest)
}

func (r rel) script() string {
	if r.binary != "" {
		return r.binary
	}
	return fmt.Sprintf("#!/bin/sh\necho %s %s\n", r.name, r.vsn)
}

// writeTree writes the release as relkit build assembles it into the new
// directory dir (bin/NAME, releases/VSN/{NAME,release.json}, tmp/, log/)
// and returns its manifest.
func writeTree(t tb, dir string, r rel) *manifest.Manifest {
	t.Helper()
	relDir := filepath.Join(dir, "releases", r.vsn)
	for _, d := range []string{filepath.Join(dir, "bin"), relDir, filepath.Join(dir, "tmp"), filepath.Join(dir, "log")} {
		must(t, os.MkdirAll(d, 0o755))
	}
	must(t, os.WriteFile(filepath.Join(relDir, r.name), []byte(r.script()), 0o755))
	for p, body := range r.extra {
		f := filepath.Join(relDir, filepath.FromSlash(p))
		must(t, os.MkdirAll(filepath.Dir(f), 0o755))
		mode := os.FileMode(0o644)
		if slices.Contains(r.executable, p) {
			mode = 0o755
		}
		must(t, os.WriteFile(f, []byte(body), mode))
	}
	for p, target := range r.links {
		f := filepath.Join(relDir, filepath.FromSlash(p))
		must(t, os.MkdirAll(filepath.Dir(f), 0o755))
		must(t, os.Symlink(target, f))
	}
	for p, body := range r.overlays {
		f := filepath.Join(dir, filepath.FromSlash(p))
		must(t, os.MkdirAll(filepath.Dir(f), 0o755))
		must(t, os.WriteFile(f, []byte(body), 0o644))
	}
	must(t, os.Symlink(path.Join("..", "releases", r.vsn, r.name), filepath.Join(dir, "bin", r.name)))
	files, err := manifest.Scan(dir)
	must(t, err)
	m := &manifest.Manifest{
		Name: r.name, Version: r.vsn, OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version(),
		VCS:             &manifest.VCS{System: "git", Revision: "0123456789abcdef0123456789abcdef01234567"},
		BuildTime:       time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		BuildTimeSource: manifest.BuildTimeFromVCS,
		Files:           files,
	}
	for _, f := range r.migrations {
		m.Migrations = append(m.Migrations, manifest.Migration{File: f, SHA256: strings.Repeat("0", 64)})
	}
	if r.edit != nil {
		r.edit(m)
	}
	must(t, m.Write(filepath.Join(relDir, manifest.FileName)))
	return m
}

// entry is one tar entry of a test tarball.
type entry struct {
	name string
	typ  byte
	mode int64
	body string
	link string
}

// entries returns the entries relkit tar writes for r: every directory,
// file and link of the assembled tree in lexical order.
func entries(t tb, r rel) []entry {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, r)
	var out []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rp, _ := filepath.Rel(dir, p)
		name := filepath.ToSlash(rp)
		switch {
		case d.IsDir():
			out = append(out, entry{name: name + "/", typ: tar.TypeDir, mode: 0o755})
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, entry{name: name, typ: tar.TypeSymlink, mode: 0o777, link: target})
		default:
			body, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			info, _ := d.Info()
			mode := int64(0o644)
			if info.Mode().Perm()&0o111 != 0 {
				mode = 0o755
			}
			out = append(out, entry{name: name, typ: tar.TypeReg, mode: mode, body: string(body)})
		}
		return nil
	})
	must(t, err)
	return out
}

// tarGz encodes entries as a gzip-compressed tar.
func tarGz(t tb, es []entry) []byte {
	t.Helper()
	tes := make([]testkit.TarEntry, len(es))
	for i, e := range es {
		tes[i] = testkit.TarEntry{Name: e.name, Type: e.typ, Mode: e.mode, Body: e.body, Link: e.link}
	}
	return testkit.TarGz(t, tes)
}

// writeTarball writes data to file and its .sha256 next to it.
func writeTarball(t tb, file string, data []byte) {
	t.Helper()
	testkit.WriteWithChecksum(t, file, data, data)
}

func writeChecksum(t tb, file string, data []byte) {
	t.Helper()
	b, err := os.ReadFile(file)
	must(t, err)
	testkit.WriteWithChecksum(t, file, b, data)
}

// tarballName is relkit tar's name for release r on this machine.
func tarballName(r rel) string {
	return fmt.Sprintf("%s-%s-%s-%s.tar.gz", r.name, r.vsn, runtime.GOOS, runtime.GOARCH)
}

// snapshot describes every entry under root: type, permissions, content
// hash or link target. Two equal snapshots mean nothing was changed
// (modification times aside).
func snapshot(t tb, root string) map[string]string {
	t.Helper()
	return testkit.Snapshot(t, root)
}

// diffSnapshots lists what changed between two snapshots.
func diffSnapshots(before, after map[string]string) string { return testkit.Diff(before, after) }

func must(t tb, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
