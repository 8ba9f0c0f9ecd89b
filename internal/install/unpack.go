package install

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/relkit/relkit/internal/layout"
	"github.com/relkit/relkit/internal/manifest"
)

// UnpackOptions tune [Root.Unpack]. The zero value finds the tarball in
// releases/VSN/ and applies the default bounds.
type UnpackOptions struct {
	// Tarball is the release tarball to unpack; its checksum must be in
	// Tarball+".sha256". Default "": the one [Root.FindTarball] finds in
	// releases/VSN/.
	Tarball string
	// Target is the "OS/ARCH" the release must be built for. Default "":
	// this machine's (runtime.GOOS/runtime.GOARCH).
	Target string
	// MaxSize bounds the total size of the unpacked files in bytes.
	// Default 0: DefaultMaxSize (1 GiB).
	MaxSize int64
	// MaxEntries bounds the number of tarball entries. Default 0:
	// DefaultMaxEntries (10 000).
	MaxEntries int
	// TrustedKeys are minisign public keys ("RW..." lines); when set, the
	// tarball must carry a valid signature in Tarball+".minisig" by one
	// of them, checked before anything is unpacked (see trust.go).
	// Default nil: no signature check.
	TrustedKeys []string
}

// UnpackResult describes a release [Root.Unpack] installed.
type UnpackResult struct {
	// Version is the release version.
	Version string
	// Dir is the release's directory, ROOT/releases/VSN.
	Dir string
	// Tarball is the tarball it came from.
	Tarball string
	// SHA256 is the tarball's verified hex SHA-256.
	SHA256 string
	// Manifest is the release's release.json.
	Manifest *manifest.Manifest
	// AlreadyInstalled reports that the very same build was installed
	// already, so no file was changed.
	AlreadyInstalled bool
	// Skipped lists the files and links at the release root (overlays
	// from rel/overlays, such as etc/app.conf) that the tarball holds and
	// Unpack did not install, as slash paths in tarball order. Unpacking
	// the tarball over the root (tar -xzf) installs them.
	Skipped []string

	undo undoInfo
}

// undoInfo is what [UnpackResult.Undo] needs to take an Unpack back.
type undoInfo struct {
	root *Root
	// state is RELEASES as it was before; hadState is false when there
	// was none.
	state    []byte
	hadState bool
	// installed are the names Unpack put into Dir; dirCreated reports
	// that Dir did not exist before.
	installed  []string
	dirCreated bool
}

func defaultTarget(t string) string {
	if t == "" {
		return runtime.GOOS + "/" + runtime.GOARCH
	}
	return t
}

// Unpack installs release vsn from its tarball into ROOT/releases/VSN/ and
// records it as unpacked in RELEASES. In order:
//
//  1. the tarball's SHA-256 is checked against its .sha256 file;
//     staging directories an unpack killed midway left are removed, and
//     the space its release.json says the release takes is checked
//     against the space free on the root's file system ([SpaceError]);
//  2. it is unpacked into a staging directory under ROOT/releases/,
//     refusing absolute names, "..", links that leave releases/VSN/, hard
//     links to anything but a file unpacked before, devices, pipes,
//     setuid/setgid/sticky bits, duplicate entries, entries of another
//     version or in tmp/ or log/, and more than MaxSize bytes or
//     MaxEntries entries; files at the release root (overlays) are
//     skipped and listed in the result;
//  3. the staged tree is checked against its release.json (name, version,
//     target, every installed file's size, mode and SHA-256, no unlisted
//     file, skipped ones included);
//  4. releases/VSN/ is put in place with one rename (files already waiting
//     there, such as the tarball, are kept), then RELEASES is written.
//
// When anything is refused nothing under the root changes. bin/NAME is not
// touched: it changes when the release becomes permanent. Unpacking a build
// that is installed already changes nothing and reports AlreadyInstalled;
// a different build of an installed version is refused
// ([ErrAlreadyInstalled]).
func (r *Root) Unpack(vsn string, opts UnpackOptions) (*UnpackResult, error) {
	if err := CheckVersion(vsn); err != nil {
		return nil, err
	}
	target := defaultTarget(opts.Target)
	unlock, err := r.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	// RELEASES must be readable before anything is extracted; it is read
	// again right before it is written.
	if _, err := r.Releases(); err != nil {
		return nil, err
	}
	undo := undoInfo{root: r}
	tarball := opts.Tarball
	if tarball == "" {
		if tarball, err = r.FindTarball(vsn, target); err != nil {
			return nil, err
		}
	} else if tarball, err = filepath.Abs(tarball); err != nil {
		return nil, err
	}
	if err := verifySignature(tarball, opts.TrustedKeys); err != nil {
		return nil, err
	}
	f, sum, err := openVerified(tarball)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	// What an unpack killed midway left (a staging directory can hold a
	// whole release) would otherwise take the space this one needs.
	r.removeStale()
	x := newExtractor(tarball, "", r.name, vsn, opts.MaxSize, opts.MaxEntries)
	if err := r.checkSpace(f, x); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read %s: %w", tarball, err)
	}

	stage, err := os.MkdirTemp(r.releasesDir(), ".unpack-"+vsn+"-")
	if err != nil {
		return nil, fmt.Errorf("create staging directory: %w", err)
	}
	defer os.RemoveAll(stage)

	x.stage = stage
	h := sha256.New()
	if err := x.extract(io.TeeReader(f, h)); err != nil {
		return nil, err
	}
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("read %s: %w", tarball, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != sum {
		return nil, fmt.Errorf("%w: %s changed while it was being unpacked; copy it again and retry", ErrChecksumMismatch, tarball)
	}
	m, err := x.check(target, opts.Target != "")
	if err != nil {
		return nil, err
	}

	dst := layout.Release(r.dir, vsn)
	res := &UnpackResult{Version: vsn, Dir: dst, Tarball: tarball, SHA256: sum, Manifest: m, Skipped: x.skipped, undo: undo}
	same, err := r.sameBuildInstalled(vsn, stage, m)
	if err != nil {
		return nil, err
	}
	// The supervisor commits a probation rollback without the change
	// lock: add to RELEASES as it is now, not as it was before extracting.
	r.hookBeforeStateWrite()
	rs, err := r.Releases()
	if err != nil {
		return nil, err
	}
	if res.undo.state, err = os.ReadFile(r.StateFilePath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read release states: %w", err)
	}
	res.undo.hadState = err == nil
	if same {
		res.AlreadyInstalled = true
		if _, ok := rs.State(vsn); ok {
			return res, nil
		}
		if err := rs.MarkUnpacked(vsn); err != nil {
			return nil, err
		}
		return res, WriteReleases(r.StateFilePath(), rs)
	}
	if st, ok := rs.State(vsn); ok && (st == Current || st == Permanent) {
		return nil, fmt.Errorf("%w: %s lists release %s as %s, but %s holds no release: restore that directory, or remove the line if the release is gone", ErrState, r.StateFilePath(), vsn, st, dst)
	}
	next := rs.Clone()
	if err := next.MarkUnpacked(vsn); err != nil {
		return nil, err
	}

	staged := filepath.Join(stage, filepath.FromSlash(x.relDir))
	if err := x.syncDirs(); err != nil {
		return nil, err
	}
	own, err := os.ReadDir(staged)
	if err != nil {
		return nil, err
	}
	for _, e := range own {
		res.undo.installed = append(res.undo.installed, e.Name())
	}
	mv, err := r.moveIntoPlace(staged, dst)
	if err != nil {
		return nil, err
	}
	res.undo.dirCreated = !mv.exchanged
	if err := WriteReleases(r.StateFilePath(), next); err != nil {
		if uerr := mv.undo(); uerr != nil {
			return nil, fmt.Errorf("%w; putting %s back failed too (%v): remove %s by hand", err, dst, uerr, dst)
		}
		return nil, err
	}
	mv.keepLateArrivals()
	r.removeStale()
	return res, nil
}

// removeStale removes what an unpack, a prune or a RELEASES write killed
// midway left in ROOT/releases: staging directories and temporary files.
// A release a killed prune hid but RELEASES still lists is put back first
// (see [Root.restorePruned]). It runs under the lock, so none of them
// belongs to a live process.
func (r *Root) removeStale() {
	kept := r.restorePruned()
	for _, pattern := range []string{".unpack-*", ".prune-*", "." + StateFile + ".tmp-*"} {
		stale, _ := filepath.Glob(filepath.Join(r.releasesDir(), pattern))
		for _, p := range stale {
			if !kept[p] {
				os.RemoveAll(p)
			}
		}
	}
}

// check verifies the staged tree against the release.json it carries.
func (x *extractor) check(target string, explicitTarget bool) (*manifest.Manifest, error) {
	wrong := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s %s", ErrWrongRelease, x.tarball, fmt.Sprintf(format, args...))
	}
	file := filepath.Join(x.stage, filepath.FromSlash(x.relDir), manifest.FileName)
	m, err := manifest.Read(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, wrong("holds no %s/%s: it is not a relkit tarball of %s %s", x.relDir, manifest.FileName, x.name, x.vsn)
	}
	if err != nil {
		return nil, wrong("has an unreadable release.json: %v", err)
	}
	if m.Name != x.name || m.Version != x.vsn {
		return nil, wrong("is release %s %s, not %s %s: use the tarball of %s %s", m.Name, m.Version, x.name, x.vsn, x.name, x.vsn)
	}
	if m.OS != "" && m.Target() != target {
		if explicitTarget {
			return nil, wrong("is built for %s, not %s", m.Target(), target)
		}
		return nil, wrong("is built for %s, but this machine is %s: use the tarball built for %s (relkit build -target %s)", m.Target(), target, target, target)
	}
	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Path] = true
	}
	own := path.Join(x.relDir, manifest.FileName)
	for _, p := range slices.Concat(x.files, x.skipped) {
		if p != own && !listed[p] {
			return nil, wrong("holds %s, which its release.json does not list: the tarball was altered after it was built", p)
		}
	}
	bin := path.Join(x.relDir, x.name)
	if !listed[bin] {
		return nil, wrong("has no binary %s in its release.json", bin)
	}
	for _, f := range m.Files {
		if f.Path == bin && (f.Link != "" || f.Mode != "0755") {
			return nil, wrong("has a binary %s that is not an executable file: rebuild the release", bin)
		}
	}
	if err := x.installable(m).Verify(x.stage); err != nil {
		var ve *manifest.VerifyError
		if errors.As(err, &ve) {
			ve.Root = x.tarball // the staging directory is gone by the time anyone reads this
		}
		return nil, fmt.Errorf("%w: %w", ErrWrongRelease, err)
	}
	return m, nil
}

// installable returns a copy of m listing only what Unpack installs: the
// files under releases/VSN/ and the bin/NAME link, not the files at the
// release root.
func (x *extractor) installable(m *manifest.Manifest) *manifest.Manifest {
	c := *m
	c.Files = nil
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, x.relDir+"/") || f.Path == path.Join("bin", x.name) {
			c.Files = append(c.Files, f)
		}
	}
	return &c
}

// syncDirs flushes the staged directories, so the release survives a crash
// once renamed into place.
func (x *extractor) syncDirs() error {
	for _, d := range x.dirs {
		if err := syncDir(filepath.Join(x.stage, filepath.FromSlash(d))); err != nil {
			return fmt.Errorf("flush %s: %w", d, err)
		}
	}
	return nil
}

// sameBuildInstalled reports whether release vsn is installed already from
// the same build (same release.json, files intact), and refuses a different
// build of it.
func (r *Root) sameBuildInstalled(vsn, stage string, m *manifest.Manifest) (bool, error) {
	dir := layout.Release(r.dir, vsn)
	have, err := os.ReadFile(filepath.Join(dir, manifest.FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	want, err := os.ReadFile(filepath.Join(stage, "releases", vsn, manifest.FileName))
	if err != nil {
		return false, err
	}
	if !bytes.Equal(have, want) {
		installed := "an unreadable release.json"
		if old, err := manifest.Parse(have); err == nil {
			installed = describeBuild(old)
		}
		return false, fmt.Errorf("%w: release %s is installed in %s from another build (%s, release.json SHA-256 %s; the tarball holds %s, release.json SHA-256 %s); a version names one build: give the new build a new version",
			ErrAlreadyInstalled, vsn, dir, installed, sha256Hex(have), describeBuild(m), sha256Hex(want))
	}
	if err := ownFiles(m).Verify(r.dir); err != nil {
		return false, fmt.Errorf("%w: release %s is installed in %s but its files no longer match its release.json; if it is not running, remove %s and unpack again: %w", ErrAlreadyInstalled, vsn, dir, dir, err)
	}
	return true, nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func describeBuild(m *manifest.Manifest) string {
	s := "built " + m.BuildTime.UTC().Format("2006-01-02 15:04:05Z")
	if m.VCS != nil && m.VCS.Revision != "" {
		rev := m.VCS.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += " from " + rev
	}
	return s
}

// move is a staged release directory renamed into place.
type move struct {
	staged, dst string
	// exchanged: dst existed (holding the tarball) and was swapped with
	// staged, which now holds the old directory.
	exchanged bool
	carried   map[string]bool
}

// moveIntoPlace puts the staged release directory at dst. When dst exists
// (the operator put the tarball there) its entries are hard-linked into
// the staged directory first, and the two directories are exchanged in one
// step; an entry of dst that a release file would replace is refused.
func (r *Root) moveIntoPlace(staged, dst string) (*move, error) {
	mv := &move{staged: staged, dst: dst, carried: map[string]bool{}}
	waiting, err := os.ReadDir(dst)
	if errors.Is(err, fs.ErrNotExist) {
		if err := renameNoReplace(staged, dst); err != nil {
			return nil, fmt.Errorf("move release into %s: %w", dst, err)
		}
		return mv, syncDir(filepath.Dir(dst))
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dst, err)
	}
	for _, e := range waiting {
		if err := carry(filepath.Join(dst, e.Name()), filepath.Join(staged, e.Name())); err != nil {
			return nil, err
		}
		mv.carried[e.Name()] = true
	}
	if err := os.Chmod(staged, 0o755); err != nil {
		return nil, err
	}
	if err := syncDir(staged); err != nil {
		return nil, err
	}
	if err := exchange(staged, dst); err != nil {
		return nil, fmt.Errorf("move release into %s: %w", dst, err)
	}
	mv.exchanged = true
	return mv, syncDir(filepath.Dir(dst))
}

// carry links the waiting file src into the staged directory at dst.
func carry(src, dst string) error {
	info, err := os.Lstat(src)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("%w: %s is in the way of the release's own %s: move it out of %s and retry", ErrAlreadyInstalled, src, filepath.Base(dst), filepath.Dir(src))
	}
	switch {
	case info.Mode().IsRegular():
		if err := os.Link(src, dst); err != nil {
			return fmt.Errorf("keep %s: %w", src, err)
		}
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil {
			return fmt.Errorf("keep %s: %w", src, err)
		}
	default:
		return fmt.Errorf("%w: %s is a %s; only files (the tarball, its .sha256, an env file) may wait in %s before the release is unpacked: move it away and retry", ErrAlreadyInstalled, src, info.Mode().Type(), filepath.Dir(src))
	}
	return nil
}

// undo takes the release out of place again, restoring what was there.
func (mv *move) undo() error {
	if mv.exchanged {
		return exchange(mv.staged, mv.dst)
	}
	return os.Rename(mv.dst, mv.staged)
}

// keepLateArrivals moves entries that appeared in the old directory between
// linking its entries and the exchange (an operator copying a file at that
// moment) into the release directory, where nothing of that name exists.
func (mv *move) keepLateArrivals() {
	if !mv.exchanged {
		return
	}
	entries, _ := os.ReadDir(mv.staged)
	for _, e := range entries {
		if mv.carried[e.Name()] {
			continue
		}
		to := filepath.Join(mv.dst, e.Name())
		if _, err := os.Lstat(to); errors.Is(err, fs.ErrNotExist) {
			os.Rename(filepath.Join(mv.staged, e.Name()), to)
		}
	}
}

// Undo takes back what the Unpack that returned res installed: the
// release's own files leave Dir (files that were waiting there before,
// such as the tarball and its .sha256, stay; Dir itself goes when Unpack
// created it), and RELEASES gets back its earlier content byte for byte,
// or is removed when there was none. A failed upgrade calls it, so that a
// fixed tarball of the same version can be tried again.
//
// Call it while holding the [Root.Lock] taken before Unpack, so that no
// other change came in between, and before the release is made current:
// changes to RELEASES since Unpack are discarded. For a result that
// installed no file (AlreadyInstalled) only RELEASES is restored.
func (res *UnpackResult) Undo() error {
	u := res.undo
	if u.root == nil {
		return errors.New("install: Undo of an UnpackResult that Unpack did not return")
	}
	unlock, err := u.root.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	var errs []error
	if u.dirCreated {
		if err := os.RemoveAll(res.Dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", res.Dir, err))
		}
	} else {
		for _, name := range u.installed {
			if err := os.RemoveAll(filepath.Join(res.Dir, name)); err != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", filepath.Join(res.Dir, name), err))
			}
		}
	}
	if len(u.installed) > 0 {
		if err := syncDir(filepath.Dir(res.Dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	file := u.root.StateFilePath()
	if u.hadState {
		if err := writeFileAtomic(file, u.state, 0o644); err != nil {
			errs = append(errs, fmt.Errorf("%w: restore %s: %v", ErrState, file, err))
		}
	} else if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("%w: remove %s: %v", ErrState, file, err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("take back the unpacked release %s: %w (fix by hand: remove its files from %s and restore %s)", res.Version, errors.Join(errs...), res.Dir, file)
	}
	return nil
}
