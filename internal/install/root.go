package install

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/relkit/relkit/internal/layout"
	"github.com/relkit/relkit/internal/manifest"
)

// Root is an installation directory of release Name: the layout of
// [github.com/relkit/relkit/internal/layout] with any number of versions
// under releases/. A Root serves one command at a time; changes are
// serialised between processes by a lock on ROOT/releases (see
// [Root.Lock]).
type Root struct {
	dir, name string

	mu    sync.Mutex
	held  int
	lockF *os.File

	// beforeStateWrite, when set, runs right before Prune and Unpack
	// write RELEASES (tests: another process changing it then).
	beforeStateWrite func()
}

// Open returns the installation at dir of the release named name. dir must
// contain a releases/ directory, as every assembled release does.
func Open(dir, name string) (*Root, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("release root %s: %w", dir, err)
	}
	info, err := os.Stat(filepath.Join(abs, "releases"))
	if err != nil || !info.IsDir() {
		return nil, fmt.Errorf("%w: %s has no releases/ directory: give the directory a release tarball was unpacked into", ErrNotRoot, abs)
	}
	return &Root{dir: abs, name: name}, nil
}

// Dir returns the root directory (absolute).
func (r *Root) Dir() string { return r.dir }

// Name returns the release name.
func (r *Root) Name() string { return r.name }

func (r *Root) releasesDir() string { return filepath.Join(r.dir, "releases") }

// StateFilePath returns the path of ROOT/releases/RELEASES.
func (r *Root) StateFilePath() string { return filepath.Join(r.releasesDir(), StateFile) }

// Lock takes the root's change lock, an exclusive flock(2) on the
// ROOT/releases directory, and returns the function that releases it. The
// methods that change the installation take the lock themselves; a caller
// holding it across several calls (an upgrade: unpack, switch, make
// permanent) keeps other processes out for the whole sequence. The lock is
// reentrant within one Root. It fails, matching [ErrBusy], when another
// process holds it for more than half a second. No file is created.
func (r *Root) Lock() (unlock func(), err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held == 0 {
		f, err := os.Open(r.releasesDir())
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", r.releasesDir(), err)
		}
		if err := flock(f); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("%w: another upgrade, downgrade, switch, unpack or prune is running in %s; wait for it to finish", ErrBusy, r.dir)
			}
			return nil, fmt.Errorf("lock %s: %w", r.releasesDir(), err)
		}
		r.lockF = f
	}
	r.held++
	var once sync.Once
	return func() { once.Do(r.unlock) }, nil
}

// lockWait is how long Lock retries a held lock before giving up. A
// process that forked while holding it (to start a release) keeps it until
// the child's exec closes the inherited descriptor; this covers that
// moment, not a concurrent upgrade.
const lockWait = 500 * time.Millisecond

// flock takes an exclusive flock on f, retrying for up to lockWait.
func flock(f *os.File) error {
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *Root) unlock() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held--
	if r.held == 0 {
		r.lockF.Close() // closing the descriptor releases the flock
		r.lockF = nil
	}
}

// Releases returns the release states. Without a RELEASES file (a release
// unpacked from its tarball by hand, never upgraded) they are inferred:
// every releases/VSN/ holding a release.json of this release is listed,
// oldest build first; the one bin/NAME points to is permanent, the others
// unpacked.
func (r *Root) Releases() (*Releases, error) {
	rs, err := ReadReleases(r.StateFilePath())
	if errors.Is(err, fs.ErrNotExist) {
		return r.inferReleases()
	}
	return rs, err
}

func (r *Root) inferReleases() (*Releases, error) {
	dirs, err := os.ReadDir(r.releasesDir())
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	var found []*manifest.Manifest
	for _, d := range dirs {
		if !d.IsDir() || CheckVersion(d.Name()) != nil {
			continue
		}
		m, err := r.Manifest(d.Name())
		if err != nil {
			continue // not an installed release (a directory holding only a tarball)
		}
		found = append(found, m)
	}
	sort.SliceStable(found, func(i, j int) bool {
		if !found[i].BuildTime.Equal(found[j].BuildTime) {
			return found[i].BuildTime.Before(found[j].BuildTime)
		}
		return found[i].Version < found[j].Version
	})
	linked, _ := r.Linked()
	var rs Releases
	for _, m := range found {
		st := Unpacked
		if m.Version == linked {
			st = Permanent
		}
		rs.entries = append(rs.entries, Entry{Version: m.Version, State: st})
	}
	return &rs, nil
}

// Linked returns the version bin/NAME points to: the VSN of a symbolic
// link to ../releases/VSN/NAME. It fails when bin/NAME is missing or is
// anything else.
func (r *Root) Linked() (string, error) {
	p := filepath.Join(r.dir, "bin", r.name)
	target, err := os.Readlink(p)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	t := filepath.ToSlash(target)
	vsn, ok := strings.CutPrefix(t, "../releases/")
	vsn, ok2 := strings.CutSuffix(vsn, "/"+r.name)
	if !ok || !ok2 || CheckVersion(vsn) != nil || path.Clean(t) != t {
		return "", fmt.Errorf("%s points to %s, not to ../releases/VSN/%s", p, target, r.name)
	}
	return vsn, nil
}

// Manifest reads the release.json of installed release vsn and checks that
// it describes release vsn of this root's name. The error matches
// [ErrNotInstalled] when there is none.
func (r *Root) Manifest(vsn string) (*manifest.Manifest, error) {
	if err := CheckVersion(vsn); err != nil {
		return nil, err
	}
	file := filepath.Join(layout.Release(r.dir, vsn), manifest.FileName)
	m, err := manifest.Read(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: release %s: %s does not exist; unpack the release first", ErrNotInstalled, vsn, file)
	}
	if err != nil {
		return nil, err
	}
	if m.Name != r.name || m.Version != vsn {
		return nil, fmt.Errorf("%w: %s describes release %s %s, not %s %s; restore the file from the release tarball", ErrWrongRelease, file, m.Name, m.Version, r.name, vsn)
	}
	return m, nil
}

// Verify checks the files of installed release vsn (releases/VSN/ and its
// binary) against its release.json, as [manifest.Manifest.Verify] does.
// bin/NAME is not examined: it points to the permanent release, which may
// be another one.
func (r *Root) Verify(vsn string) error {
	m, err := r.Manifest(vsn)
	if err != nil {
		return err
	}
	return ownFiles(m).Verify(r.dir)
}

// ownFiles returns a copy of m listing only the files under releases/VSN/.
func ownFiles(m *manifest.Manifest) *manifest.Manifest {
	c := *m
	c.Files = nil
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, m.Dir()+"/") {
			c.Files = append(c.Files, f)
		}
	}
	return &c
}

// Installed describes one installed release for the releases command.
type Installed struct {
	// Version is the release version.
	Version string
	// State is its state in RELEASES.
	State State
	// Running reports whether this is the release the system runs now.
	Running bool
	// Manifest is the release's release.json; nil when it cannot be read.
	Manifest *manifest.Manifest
	// Err says why Manifest is nil (for example the directory was removed
	// by hand); nil otherwise.
	Err error
}

// List returns the installed releases in installation order. running is
// the version the running system reports ("" when none runs); the release
// of that version is marked Running.
func (r *Root) List(running string) ([]Installed, error) {
	rs, err := r.Releases()
	if err != nil {
		return nil, err
	}
	out := make([]Installed, 0, len(rs.entries))
	for _, e := range rs.entries {
		in := Installed{Version: e.Version, State: e.State, Running: running != "" && e.Version == running}
		in.Manifest, in.Err = r.Manifest(e.Version)
		out = append(out, in)
	}
	return out, nil
}

// MakeCurrent records in RELEASES that release vsn runs now, not yet
// permanent (see [Releases.MakeCurrent]). bin/NAME is not changed.
func (r *Root) MakeCurrent(vsn string) error {
	unlock, err := r.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	return r.makeCurrent(vsn)
}

// Commit records that release vsn runs and is the one bin/NAME starts:
// [Root.MakeCurrent] then [Root.MakePermanent], without taking the change
// lock. It is for the supervisor, which commits a switch on behalf of the
// upgrade command holding the lock (and waiting on the supervisor), or
// on its own at a probation rollback, when no command runs.
func (r *Root) Commit(vsn string) error {
	if err := r.makeCurrent(vsn); err != nil {
		return err
	}
	return r.makePermanent(vsn)
}

func (r *Root) makeCurrent(vsn string) error {
	rs, err := r.Releases()
	if err != nil {
		return err
	}
	if _, err := r.Manifest(vsn); err != nil {
		return err
	}
	if err := rs.MakeCurrent(vsn); err != nil {
		return err
	}
	return WriteReleases(r.StateFilePath(), rs)
}

// MakePermanent makes release vsn the one bin/NAME starts: it verifies the
// release's files, switches bin/NAME atomically to ../releases/VSN/NAME,
// then records vsn as permanent in RELEASES (the previous permanent release
// becomes old). If RELEASES cannot be written, bin/NAME is switched back.
func (r *Root) MakePermanent(vsn string) error {
	unlock, err := r.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	return r.makePermanent(vsn)
}

func (r *Root) makePermanent(vsn string) error {
	rs, err := r.Releases()
	if err != nil {
		return err
	}
	if err := r.Verify(vsn); err != nil {
		return err
	}
	next := rs.Clone()
	if err := next.MakePermanent(vsn); err != nil {
		return err
	}
	prev, err := r.switchBin(vsn)
	if err != nil {
		return err
	}
	if err := WriteReleases(r.StateFilePath(), next); err != nil {
		var rerr error
		if prev != "" {
			_, rerr = r.switchBinTo(prev)
		} else {
			rerr = os.Remove(filepath.Join(r.dir, "bin", r.name))
		}
		if rerr != nil {
			return fmt.Errorf("%w; restoring bin/%s failed too: %v", err, r.name, rerr)
		}
		return err
	}
	return nil
}
