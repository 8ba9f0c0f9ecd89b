package install

import (
	"errors"
	"fmt"
	"strings"

	"github.com/relkit/relkit/internal/relspec"
)

// Sentinels, matched with errors.Is. The errors returned carry the details
// (which file, which entry, what to do next).
var (
	// ErrNotRoot: the directory has no releases/ directory.
	ErrNotRoot = errors.New("not a release root")
	// ErrInvalidName: a release name or version is not a plain file name.
	ErrInvalidName = relspec.ErrInvalidName
	// ErrNoTarball: no tarball for the version was found, or several.
	ErrNoTarball = errors.New("no release tarball")
	// ErrNoChecksum: the tarball has no usable .sha256 file next to it.
	ErrNoChecksum = errors.New("release tarball has no checksum")
	// ErrChecksumMismatch: the tarball's SHA-256 differs from its .sha256 file.
	ErrChecksumMismatch = errors.New("release tarball does not match its checksum")
	// ErrDamaged: the tarball is not a readable gzip-compressed tar.
	ErrDamaged = errors.New("release tarball is damaged")
	// ErrUnsafeEntry: the tarball holds an entry that unpacking must not
	// create (see [EntryError]).
	ErrUnsafeEntry = errors.New("release tarball holds an unsafe entry")
	// ErrTooLarge: the tarball unpacks to more bytes or entries than allowed.
	ErrTooLarge = errors.New("release tarball is too large")
	// ErrWrongRelease: the tarball is a different release, version or target
	// than asked for, or its files do not match its release.json.
	ErrWrongRelease = errors.New("release tarball is not the release asked for")
	// ErrAlreadyInstalled: a different build of the version is installed.
	ErrAlreadyInstalled = errors.New("a different build of this version is installed")
	// ErrNotInstalled: the version is not installed under the root.
	ErrNotInstalled = errors.New("release is not installed")
	// ErrState: the RELEASES file cannot be read or the requested state
	// change is not allowed.
	ErrState = errors.New("release state")
	// ErrNoSpace: the file system of the root has too little space (or
	// the user's quota is used up) for the release to unpack; returned
	// before anything is written when the tarball's release.json says so
	// (see [SpaceError]), and for writes that fail with ENOSPC or EDQUOT.
	ErrNoSpace = errors.New("not enough free space to unpack the release")
	// ErrWrite: writing the unpacked release failed (an I/O error of the
	// disk, for instance); the tarball itself was read fine.
	ErrWrite = errors.New("writing the unpacked release failed")
	// ErrBusy: another process is changing the installed releases.
	ErrBusy = errors.New("installed releases are being changed by another process")
)

// EntryError reports a tarball entry that [Root.Unpack] refused to
// create. Nothing under the root was changed.
type EntryError struct {
	// Tarball is the tarball's path.
	Tarball string
	// Entry is the entry's name as stored in the tarball.
	Entry string
	// Reason says what is wrong with it.
	Reason string
	// Err is ErrUnsafeEntry, ErrTooLarge or ErrWrongRelease.
	Err error
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("%s: entry %q %s; nothing was installed: use a tarball made by relkit tar for this release", e.Tarball, e.Entry, e.Reason)
}

// Unwrap returns the sentinel the error matches.
func (e *EntryError) Unwrap() error { return e.Err }

// LineError is one problem of a RELEASES file.
type LineError struct {
	// Line is the 1-based line number.
	Line int
	// Text is the line as written.
	Text string
	// Reason says what is wrong with it.
	Reason string
}

// StateFileError lists every problem found in a RELEASES file.
type StateFileError struct {
	// File is the RELEASES file's path ("" when parsed from bytes).
	File string
	// Lines are the problems in line order.
	Lines []LineError
}

func (e *StateFileError) Error() string {
	var b strings.Builder
	file := e.File
	if file == "" {
		file = StateFile
	}
	fmt.Fprintf(&b, "%s: %d line(s) cannot be read (fix them by hand: one \"VERSION STATE\" per line, STATE one of unpacked, current, permanent, old):", file, len(e.Lines))
	for _, l := range e.Lines {
		fmt.Fprintf(&b, "\n  line %d %q: %s", l.Line, l.Text, l.Reason)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrState) true.
func (e *StateFileError) Unwrap() error { return ErrState }

// SpaceError reports that the release needs more space than the root's
// file system has free. Nothing under the root was changed.
type SpaceError struct {
	// Root is the release root.
	Root string
	// Version is the release that was to be unpacked.
	Version string
	// Need is the space the release's files take, in bytes.
	Need int64
	// Free is the space available to the user under Root, in bytes.
	Free int64
}

func (e *SpaceError) Error() string {
	return fmt.Sprintf("%s: release %s needs %s to unpack, but the file system of %s has %s free; nothing was installed: free at least %s there (old releases' directories under releases/ that no longer run, old logs) and retry",
		ErrNoSpace, e.Version, formatBytes(e.Need), e.Root, formatBytes(e.Free), formatBytes(e.Need-e.Free))
}

// Unwrap makes errors.Is(err, ErrNoSpace) true.
func (e *SpaceError) Unwrap() error { return ErrNoSpace }

// formatBytes writes n in bytes and, from a KiB on, in binary units.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	f, i := float64(n), 0
	for f >= unit && i < 4 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", f, "KMGT"[i-1], n)
}
