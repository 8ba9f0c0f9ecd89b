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
	// ErrNoSpace: the file system holding the root has less space free
	// than the release unpacks to.
	ErrNoSpace = errors.New("not enough free space to unpack the release")
	// ErrWrite: writing the unpacked files failed (a full disk, a quota,
	// an I/O error): the tarball itself is fine.
	ErrWrite = errors.New("writing the unpacked release failed")
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
