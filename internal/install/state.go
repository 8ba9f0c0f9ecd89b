package install

import (
	"fmt"
	"slices"
)

// State is where an installed release stands, as in Erlang's
// release_handler.
type State string

// The states of an installed release.
const (
	// Unpacked: the release's files are installed; it has not run as the
	// current release since.
	Unpacked State = "unpacked"
	// Current: the release runs now but is not yet permanent (an upgrade or
	// downgrade switched to it and has not confirmed it). At most one
	// release is current.
	Current State = "current"
	// Permanent: the release bin/NAME starts. At most one release is
	// permanent.
	Permanent State = "permanent"
	// Old: the release was permanent before another one became permanent.
	Old State = "old"
)

// states lists the valid states in the order the documentation gives them.
var states = []State{Unpacked, Current, Permanent, Old}

func (s State) valid() bool { return slices.Contains(states, s) }

// Entry is one line of the RELEASES file.
type Entry struct {
	// Version is the release version, its directory under releases/.
	Version string
	// State is the release's state.
	State State
}

// Releases is the content of a RELEASES file: the installed releases in
// the order they were installed, each with its state. Its zero value lists
// no release. The methods that change states keep the invariants: every
// version once, at most one current and at most one permanent release.
type Releases struct {
	entries []Entry
}

// Entries returns the releases in installation order.
func (rs *Releases) Entries() []Entry { return slices.Clone(rs.entries) }

// State returns the state of release vsn and whether it is listed.
func (rs *Releases) State(vsn string) (State, bool) {
	if i := rs.index(vsn); i >= 0 {
		return rs.entries[i].State, true
	}
	return "", false
}

// Permanent returns the permanent release's version, "" when none is.
func (rs *Releases) Permanent() string { return rs.find(Permanent) }

// Current returns the current release's version, "" when none is.
func (rs *Releases) Current() string { return rs.find(Current) }

func (rs *Releases) find(s State) string {
	for _, e := range rs.entries {
		if e.State == s {
			return e.Version
		}
	}
	return ""
}

func (rs *Releases) index(vsn string) int {
	return slices.IndexFunc(rs.entries, func(e Entry) bool { return e.Version == vsn })
}

// Clone returns an independent copy, so a change can be prepared and
// discarded.
func (rs *Releases) Clone() *Releases { return &Releases{entries: rs.Entries()} }

// MarkUnpacked records that release vsn has been unpacked: a new version is
// appended as unpacked, an old one becomes unpacked again, an unpacked one
// stays. A current or permanent release cannot be unpacked again.
func (rs *Releases) MarkUnpacked(vsn string) error {
	if err := CheckVersion(vsn); err != nil {
		return err
	}
	i := rs.index(vsn)
	if i < 0 {
		rs.entries = append(rs.entries, Entry{Version: vsn, State: Unpacked})
		return nil
	}
	switch s := rs.entries[i].State; s {
	case Unpacked, Old:
		rs.entries[i].State = Unpacked
		return nil
	default:
		return fmt.Errorf("%w: release %s is %s, it cannot be unpacked again over itself", ErrState, vsn, s)
	}
}

// MakeCurrent records that release vsn now runs without being permanent
// yet. A release that was current before becomes unpacked. Making the
// permanent release current leaves it permanent and clears the current
// one (the system runs its permanent release again).
func (rs *Releases) MakeCurrent(vsn string) error {
	i, err := rs.listed(vsn)
	if err != nil {
		return err
	}
	for j := range rs.entries {
		if j != i && rs.entries[j].State == Current {
			rs.entries[j].State = Unpacked
		}
	}
	if rs.entries[i].State != Permanent {
		rs.entries[i].State = Current
	}
	return nil
}

// MakePermanent records that release vsn is the one to start from now on.
// The previous permanent release becomes old; another current release
// becomes unpacked.
func (rs *Releases) MakePermanent(vsn string) error {
	i, err := rs.listed(vsn)
	if err != nil {
		return err
	}
	for j := range rs.entries {
		if j == i {
			continue
		}
		switch rs.entries[j].State {
		case Permanent:
			rs.entries[j].State = Old
		case Current:
			rs.entries[j].State = Unpacked
		}
	}
	rs.entries[i].State = Permanent
	return nil
}

func (rs *Releases) listed(vsn string) (int, error) {
	if err := CheckVersion(vsn); err != nil {
		return -1, err
	}
	i := rs.index(vsn)
	if i < 0 {
		return -1, fmt.Errorf("%w: release %s is not listed in %s: unpack it first (upgrade %s does)", ErrNotInstalled, vsn, StateFile, vsn)
	}
	return i, nil
}
