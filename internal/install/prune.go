package install

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/relkit/relkit/internal/layout"
)

// PruneOptions tune [Root.Prune].
type PruneOptions struct {
	// Keep is how many of the newest releases (in RELEASES order, the
	// order they were installed) stay whatever their state; at least 0.
	Keep int
	// Protect are more versions that must stay, beyond the ones Prune
	// always keeps: typically the release the system runs, which only
	// its control socket knows, and the release a switch came from.
	Protect []string
}

// PruneResult is what [Root.Prune] did.
type PruneResult struct {
	// Removed are the versions whose directory and RELEASES line were
	// removed, in RELEASES order.
	Removed []string
	// Kept are the versions still listed, in RELEASES order.
	Kept []string
}

// Previous returns the release before the permanent one in RELEASES: the
// one a downgrade without a version goes back to, and that [Root.Prune]
// never removes. It returns "" when no release is permanent or none is
// listed before it.
func (rs *Releases) Previous() string {
	i := slices.IndexFunc(rs.entries, func(e Entry) bool { return e.State == Permanent })
	if i <= 0 {
		return ""
	}
	return rs.entries[i-1].Version
}

// Prune removes the releases beyond the newest opts.Keep in RELEASES
// order: their directory under releases/ (the tarball, its checksum and
// env file in it included) and their RELEASES line. It never removes the
// permanent release, the current one, the previous one ([Releases.Previous]),
// the one bin/NAME points to, or one named in opts.Protect. A directory
// under releases/ that RELEASES does not list (a tarball waiting to be
// unpacked) is not touched.
//
// Each removed directory is first renamed into a hidden sibling
// (.prune-VSN-*), then RELEASES is written, then the renamed directories
// are deleted. A crash before RELEASES is written leaves the old RELEASES
// and hidden directories of releases it still lists, which the next Prune
// or Unpack puts back ([Root.restorePruned]); a crash after it leaves the
// new RELEASES and hidden leftovers, which they delete. It holds the
// root's change lock; the supervisor commits a probation rollback without
// it, so when RELEASES changed meanwhile Prune puts every directory back
// and fails ([ErrBusy]) rather than write its older view over that switch.
func (r *Root) Prune(opts PruneOptions) (*PruneResult, error) {
	if opts.Keep < 0 {
		return nil, fmt.Errorf("prune: keep %d releases: want 0 or more", opts.Keep)
	}
	unlock, err := r.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	r.removeStale()
	rs, err := r.Releases()
	if err != nil {
		return nil, err
	}
	state, err := readState(r.StateFilePath())
	if err != nil {
		return nil, err
	}
	protect := map[string]bool{rs.Permanent(): true, rs.Current(): true, rs.Previous(): true}
	if linked, err := r.Linked(); err == nil {
		protect[linked] = true
	}
	for _, v := range opts.Protect {
		protect[v] = true
	}
	res := &PruneResult{}
	next := &Releases{}
	newest := len(rs.entries) - opts.Keep
	for i, e := range rs.entries {
		if i >= newest || protect[e.Version] {
			next.entries = append(next.entries, e)
			res.Kept = append(res.Kept, e.Version)
			continue
		}
		res.Removed = append(res.Removed, e.Version)
	}
	if len(res.Removed) == 0 {
		return res, nil
	}

	// Move the directories out of the way, so that RELEASES and the
	// directories change together as far as a reader can tell.
	type moved struct{ from, to string }
	var done []moved
	putBack := func() error {
		var errs []error
		for _, m := range slices.Backward(done) {
			if err := os.Rename(m.to, m.from); err != nil {
				errs = append(errs, fmt.Errorf("put %s back: %w", m.from, err))
				continue
			}
			os.Remove(filepath.Dir(m.to))
		}
		return errors.Join(errs...)
	}
	for _, vsn := range res.Removed {
		dir := layout.Release(r.dir, vsn)
		if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
			continue // removed by hand already: only its line goes
		}
		tmp, err := os.MkdirTemp(r.releasesDir(), ".prune-"+vsn+"-")
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prune: %w", err), putBack())
		}
		to := filepath.Join(tmp, vsn)
		if err := os.Rename(dir, to); err != nil {
			os.Remove(tmp)
			return nil, errors.Join(fmt.Errorf("prune: move %s out of the way: %w; nothing was removed", dir, err), putBack())
		}
		done = append(done, moved{dir, to})
	}
	// The supervisor commits a probation rollback without the change
	// lock: never write over a switch it recorded meanwhile.
	r.hookBeforeStateWrite()
	if now, err := readState(r.StateFilePath()); err != nil || !bytes.Equal(now, state) {
		if err == nil {
			err = fmt.Errorf("%w: %s changed while prune ran (the supervisor recorded a switch); nothing was removed: run releases prune again", ErrBusy, r.StateFilePath())
		}
		return nil, errors.Join(err, putBack())
	}
	if err := WriteReleases(r.StateFilePath(), next); err != nil {
		return nil, errors.Join(err, putBack())
	}
	var errs []error
	for _, m := range done {
		if err := os.RemoveAll(filepath.Dir(m.to)); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", m.from, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("pruned %s from %s, but deleting their files failed (the next prune retries): %w", res.Removed, r.StateFilePath(), err)
	}
	return res, syncDir(r.releasesDir())
}

// restorePruned puts back the releases a prune killed before it wrote
// RELEASES left hidden: each .prune-*/VSN whose VSN RELEASES still lists
// and whose releases/VSN/ is gone is renamed back. It returns the hidden
// directories it could not put back, which must not be deleted. The
// caller holds the change lock.
func (r *Root) restorePruned() (kept map[string]bool) {
	hidden, _ := filepath.Glob(filepath.Join(r.releasesDir(), ".prune-*", "*"))
	if len(hidden) == 0 {
		return nil
	}
	rs, err := ReadReleases(r.StateFilePath())
	if errors.Is(err, os.ErrNotExist) {
		// The prune that hid them never wrote RELEASES: before it, every
		// release directory was listed (inferred).
		rs, err = &Releases{}, nil
		for _, h := range hidden {
			rs.entries = append(rs.entries, Entry{Version: filepath.Base(h), State: Unpacked})
		}
	}
	if err != nil {
		// Which releases are listed is unknown: keep every hidden one.
		kept = map[string]bool{}
		for _, h := range hidden {
			kept[filepath.Dir(h)] = true
		}
		return kept
	}
	for _, h := range hidden {
		vsn := filepath.Base(h)
		if _, listed := rs.State(vsn); !listed || CheckVersion(vsn) != nil {
			continue
		}
		dst := layout.Release(r.dir, vsn)
		if _, err := os.Lstat(dst); !errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := os.Rename(h, dst); err != nil {
			if kept == nil {
				kept = map[string]bool{}
			}
			kept[filepath.Dir(h)] = true
		}
	}
	return kept
}

func (r *Root) hookBeforeStateWrite() {
	if r.beforeStateWrite != nil {
		r.beforeStateWrite()
	}
}

// readState returns the content of the RELEASES file, nil when there is
// none.
func readState(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read release states: %w", err)
	}
	return b, nil
}
