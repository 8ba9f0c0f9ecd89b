// Package assemble lays out a release directory from a built binary:
//
//	ROOT/
//	  bin/NAME                    -> ../releases/VSN/NAME
//	  releases/VSN/NAME           the binary
//	  releases/VSN/release.json   the manifest (internal/manifest)
//	  tmp/  log/                  empty, for the running release
//	  ...                         files from the overlays directory
//
// [Assemble] builds the tree in a temporary sibling directory and swaps it
// into place only once the manifest is written and verified, so a failed
// build never leaves a half-assembled release, and it refuses to replace a
// directory that is not a release.
package assemble
