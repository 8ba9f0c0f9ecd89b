package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/relkit/relkit/internal/manifest"
	"github.com/relkit/relkit/internal/reltar"
)

func verifyCommand() *command {
	return &command{
		name:     "verify",
		synopsis: "TARBALL",
		summary:  "rebuild a release tarball from this checkout at its recorded commit and report whether the bytes are identical",
		long: `TARBALL is a tarball relkit build -tar wrote. Its release.json records the
commit, the build time and the target; its SBOM records the main package and
the build settings (tags, CGO_ENABLED, -strip, -version). verify checks that the
checkout in the working directory is at that commit with no changes (not even
untracked files), rebuilds the release with the same settings into a
temporary directory, and compares the two tarballs: "identical", or the first
file that differs (exit 1). Run it in a clean checkout of the release's
commit, e.g. git worktree add ../verify REVISION && cd ../verify. Keep
_build/ in .gitignore: untracked files, a release built into the checkout
among them, make it count as changed (and the go command records such a
build as modified, which verify cannot rebuild).`,
		flags: func(fs *flag.FlagSet) func(context.Context, *osEnv, []string) error {
			return func(ctx context.Context, e *osEnv, args []string) error { return runVerify(ctx, e, args) }
		},
	}
}

// recorded is what a tarball says about how it was built.
type recorded struct {
	m        *manifest.Manifest
	pkg      string            // main package import path
	settings map[string]string // the binary's build settings
	// strip and versionInjected are relkit build's -strip and whether it
	// was given -version.
	strip, versionInjected bool
}

func runVerify(ctx context.Context, e *osEnv, args []string) error {
	if len(args) != 1 {
		return usagef("relkit verify app-1.0.0-linux-amd64.tar.gz", "verify takes one TARBALL")
	}
	tarball := e.abs(args[0])
	rec, err := readRecord(tarball)
	if err != nil {
		return err
	}
	m := rec.m
	switch {
	case m.VCS == nil || m.VCS.Revision == "":
		return fmt.Errorf("%s records no VCS revision (it was built outside a git checkout): there is no commit to rebuild it from", e.display(tarball))
	case m.VCS.Modified:
		return fmt.Errorf("%s was built from a checkout with uncommitted changes (release.json: vcs.modified): no commit holds its source, so it cannot be rebuilt", e.display(tarball))
	case m.BuildTimeSource == manifest.BuildTimeFromClock:
		return fmt.Errorf("%s took its build time from the clock (release.json: build_time_source clock), so no rebuild can match it: build releases from a git checkout or with SOURCE_DATE_EPOCH", e.display(tarball))
	}
	rev := m.VCS.Revision
	p, err := openProject(ctx, e, []string{rec.pkg}, "verify")
	if err != nil {
		return fmt.Errorf("%s was built from package %s, which this working directory does not have (%w): run relkit verify in a checkout of its repository", e.display(tarball), rec.pkg, err)
	}
	have := p.tc.GitVCS(ctx, p.pkg.ModuleDir)
	switch {
	case have == nil:
		return fmt.Errorf("%s is not in a git checkout: run relkit verify in a checkout of commit %s", e.display(p.pkg.ModuleDir), rev)
	case have.Revision != rev:
		return fmt.Errorf("the checkout is at commit %s, but %s was built from %s: check that commit out (git worktree add ../verify %s) and run relkit verify there", have.Revision, e.display(tarball), rev, rev)
	case have.Modified:
		return fmt.Errorf("the checkout at %s has uncommitted or untracked changes (git status --porcelain is not empty), so a rebuild would not be of commit %s: commit, stash (git stash -u) or remove them, or verify in a fresh git worktree", e.display(p.pkg.ModuleDir), rev)
	}

	env := map[string]string{}
	for k, v := range e.env {
		env[k] = v
	}
	delete(env, "SOURCE_DATE_EPOCH")
	if m.BuildTimeSource == manifest.BuildTimeFromEnv {
		env["SOURCE_DATE_EPOCH"] = strconv.FormatInt(m.BuildTime.Unix(), 10)
	}
	env["CGO_ENABLED"] = "0"
	if m.CGO {
		env["CGO_ENABLED"] = "1"
	}
	f := buildFlags{targets: m.Target(), tar: true, tags: rec.settings["-tags"], strip: rec.strip}
	if rec.versionInjected {
		f.version = m.Version
	}
	out, err := os.MkdirTemp("", "relkit-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	f.out = out
	fmt.Fprintf(e.stderr, "* rebuilding %s %s for %s from commit %s\n", m.Name, m.Version, m.Target(), rev)
	sub := &osEnv{dir: e.dir, env: env, stdin: e.stdin, stdout: io.Discard, stderr: e.stderr}
	if err := runBuild(ctx, sub, f, []string{rec.pkg}); err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	rebuilt := filepath.Join(out, reltar.Name(m.Name, m.Version, m.OS, m.Arch))
	a, err := os.ReadFile(tarball)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(rebuilt)
	if err != nil {
		return fmt.Errorf("the rebuild wrote no tarball: %w", err)
	}
	if bytes.Equal(a, b) {
		sum := sha256.Sum256(a)
		fmt.Fprintf(e.stdout, "* identical: %s is byte for byte the rebuild of commit %s (sha256 %x)\n", e.display(tarball), rev, sum)
		return nil
	}
	diff, err := compareTarballs(a, b)
	if err != nil {
		return err
	}
	return fmt.Errorf("%s differs from the rebuild of commit %s: %s", e.display(tarball), rev, diff)
}

// readRecord reads release.json and the SBOM from a release tarball.
func readRecord(tarball string) (*recorded, error) {
	data, err := os.ReadFile(tarball)
	if err != nil {
		return nil, err
	}
	ents, err := readEntries(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tarball, err)
	}
	var m *manifest.Manifest
	for _, en := range ents {
		if dir, file := path.Split(en.name); file == manifest.FileName && path.Dir(path.Clean(dir)) == "releases" {
			if m, err = manifest.Parse(en.data); err != nil {
				return nil, fmt.Errorf("%s: %w", tarball, err)
			}
		}
	}
	if m == nil {
		return nil, fmt.Errorf("%s holds no releases/VSN/%s: it is not a tarball relkit build -tar wrote", tarball, manifest.FileName)
	}
	f, ok := m.SBOM()
	if !ok {
		return nil, fmt.Errorf("%s has no SBOM (releases/%s/%s), which records the package and the build settings: it was built by a relkit without SBOMs; rebuild it by hand with relkit build and compare", tarball, m.Version, manifest.SBOMFile)
	}
	rec := &recorded{m: m, settings: map[string]string{}}
	for _, en := range ents {
		if en.name != f.Path {
			continue
		}
		var bom cdxBOM
		if err := json.Unmarshal(en.data, &bom); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", tarball, f.Path, err)
		}
		if bom.Metadata.Component != nil {
			for _, p := range bom.Metadata.Component.Properties {
				if k, ok := strings.CutPrefix(p.Name, "relkit:build:setting:"); ok {
					rec.settings[k] = p.Value
				}
				switch p.Name {
				case "relkit:main:package":
					rec.pkg = p.Value
				case "relkit:build:strip":
					rec.strip = p.Value == "true"
				case "relkit:build:version-injected":
					rec.versionInjected = p.Value == "true"
				}
			}
		}
	}
	if rec.pkg == "" {
		return nil, fmt.Errorf("%s: the SBOM %s names no main package (property relkit:main:package)", tarball, f.Path)
	}
	return rec, nil
}

// entry is one tar entry: its header fields that matter and its content.
type entry struct {
	name, link string
	typ        byte
	mode       int64
	mtime      int64
	data       []byte
}

func readEntries(data []byte) ([]entry, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a gzip-compressed tarball: %w", err)
	}
	tr := tar.NewReader(zr)
	var out []entry
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read tarball: %w", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("read tarball: %s: %w", hdr.Name, err)
		}
		out = append(out, entry{name: hdr.Name, link: hdr.Linkname, typ: hdr.Typeflag, mode: hdr.Mode, mtime: hdr.ModTime.Unix(), data: b})
	}
}

// compareTarballs names the first entry that differs between the tarball
// a and its rebuild b, and the others that differ too.
func compareTarballs(a, b []byte) (string, error) {
	ea, err := readEntries(a)
	if err != nil {
		return "", fmt.Errorf("the tarball: %w", err)
	}
	eb, err := readEntries(b)
	if err != nil {
		return "", fmt.Errorf("the rebuild: %w", err)
	}
	inB := map[string]entry{}
	for _, en := range eb {
		inB[en.name] = en
	}
	var diffs []string
	seen := map[string]bool{}
	for _, x := range ea {
		seen[x.name] = true
		y, ok := inB[x.name]
		switch {
		case !ok:
			diffs = append(diffs, x.name+" (only in the tarball)")
		case !bytes.Equal(x.data, y.data):
			diffs = append(diffs, fmt.Sprintf("%s (content: sha256 %s in the tarball, %s in the rebuild%s)", x.name, short(x.data), short(y.data), buildInfoDiff(x.data, y.data)))
		case x.typ != y.typ || x.mode != y.mode || x.link != y.link || x.mtime != y.mtime:
			diffs = append(diffs, fmt.Sprintf("%s (header: type %c mode %o link %q mtime %d in the tarball, type %c mode %o link %q mtime %d in the rebuild)", x.name, x.typ, x.mode, x.link, x.mtime, y.typ, y.mode, y.link, y.mtime))
		}
	}
	for _, y := range eb {
		if !seen[y.name] {
			diffs = append(diffs, y.name+" (only in the rebuild)")
		}
	}
	switch len(diffs) {
	case 0:
		return "every entry is identical, but the compressed bytes differ (was the tarball re-packed by another tool?)", nil
	case 1:
		return "first differing file " + diffs[0], nil
	default:
		return fmt.Sprintf("first differing file %s; %d more differ: %s", diffs[0], len(diffs)-1, strings.Join(diffs[1:], ", ")), nil
	}
}

// buildInfoDiff names the build settings and modules that differ when a
// and b are Go binaries, "" otherwise.
func buildInfoDiff(a, b []byte) string {
	ba, err := buildinfo.Read(bytes.NewReader(a))
	if err != nil {
		return ""
	}
	bb, err := buildinfo.Read(bytes.NewReader(b))
	if err != nil {
		return ""
	}
	flat := func(bi *debug.BuildInfo) map[string]string {
		m := map[string]string{"go": bi.GoVersion, "path": bi.Path}
		for _, s := range bi.Settings {
			m["setting "+s.Key] = s.Value
		}
		for _, d := range bi.Deps {
			m["module "+d.Path] = d.Version + " " + d.Sum
		}
		return m
	}
	fa, fb := flat(ba), flat(bb)
	var keys []string
	for k := range fa {
		keys = append(keys, k)
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var d []string
	for _, k := range keys {
		if fa[k] != fb[k] {
			d = append(d, fmt.Sprintf("%s %q vs %q", k, fa[k], fb[k]))
		}
	}
	if len(d) == 0 {
		return "; same build settings and modules: the source of a package, the toolchain or the linker flags differ"
	}
	return "; build info differs: " + strings.Join(d, ", ")
}

func short(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:6])
}
