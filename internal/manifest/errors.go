package manifest

import (
	"errors"
	"fmt"
	"strings"
)

// ErrMismatch is matched (with errors.Is) by the error [Manifest.Verify]
// returns when the files on disk differ from the manifest.
var ErrMismatch = errors.New("release files do not match release.json")

// Problem is one difference between a release tree and its manifest.
type Problem struct {
	// Path is the file's path relative to the release root.
	Path string
	// What says what is wrong, e.g. "missing" or "sha256 differs".
	What string
}

// VerifyError lists every difference [Manifest.Verify] found.
type VerifyError struct {
	// Root is the directory that was verified.
	Root string
	// Problems are the differences, sorted by path.
	Problems []Problem
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d file(s) do not match release.json (the release was changed or damaged after it was built; rebuild or unpack it again):", e.Root, len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Path, p.What)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrMismatch) true.
func (e *VerifyError) Unwrap() error { return ErrMismatch }
