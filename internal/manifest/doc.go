// Package manifest reads, writes and verifies release.json, the manifest
// that relkit build writes into every assembled release at
// releases/VSN/release.json.
//
// A [Manifest] records what the release is (name, version, target, Go
// version, VCS revision, build time), the SHA-256 of every file of the
// release tree and the SQL migrations embedded in its binary. [Scan] builds
// the file list from a directory and [Manifest.Verify] checks a directory
// against it, reporting every difference at once.
//
//	m, err := manifest.Read(filepath.Join(root, "releases", vsn, manifest.FileName))
//	if err != nil { ... }
//	if err := m.Verify(root); err != nil {
//		// err lists every missing, changed or unexpected file
//	}
//
// The file is written deterministically (sorted files, fixed field order,
// UTC times), so two builds of the same commit give identical bytes.
//
// NOTES: paths in the manifest are slash-separated and relative to the
// release root. release.json itself is not listed (it cannot hold its own
// checksum); the tarball's .sha256 file covers it. Empty directories (tmp/,
// log/) are not listed either.
package manifest
