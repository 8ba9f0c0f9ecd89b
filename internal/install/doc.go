// Package install manages the releases installed under a release root, as
// Erlang's release_handler does for Exrm: it unpacks a release tarball
// safely next to the running release, keeps the state of every installed
// release in releases/RELEASES, and switches bin/NAME when a release
// becomes permanent. It does not start or stop processes; the upgrade and
// downgrade commands do that with the supervisor and call this package for
// the files.
//
// The installation (see [github.com/relkit/relkit/internal/layout]):
//
//	ROOT/
//	  bin/NAME -> ../releases/VSN/NAME     the permanent release
//	  releases/RELEASES                    state of every installed release
//	  releases/1.0.0/{NAME,release.json}
//	  releases/1.1.0/NAME-1.1.0-linux-amd64.tar.gz(.sha256)   waiting to be unpacked
//
// [Open] gives a [Root]; [Root.Unpack] verifies and installs a tarball
// ([UnpackResult.Undo] takes it back after a failed upgrade),
// [Root.MakeCurrent] and [Root.MakePermanent] record an upgrade's outcome,
// [Root.List] is what the releases command prints,
// [Root.HighestMigration] tells a downgrade which database schema a release
// understands, and [Root.Prune] removes old releases, never the permanent
// or the previous one ([Releases.Previous]).
//
//	root, err := install.Open(dir, "links")
//	res, err := root.Unpack("1.1.0", install.UnpackOptions{})
//	// ... start release 1.1.0, wait until it is ready ...
//	err = root.MakeCurrent("1.1.0")
//	err = root.MakePermanent("1.1.0") // bin/links -> ../releases/1.1.0/links
//
// # The RELEASES file
//
// releases/RELEASES is plain text: a comment header, then one line per
// installed release in installation order, the version and its state:
//
//	# Installed releases, in the order they were installed: VERSION STATE
//	# ...
//	1.0.0 old
//	1.1.0 permanent
//	1.2.0 unpacked
//
// The states are Erlang's: unpacked (files installed, not run since),
// current (running, not yet made permanent), permanent (what bin/NAME
// starts; at most one) and old (permanent before). The file is replaced
// atomically (temporary file, fsync, rename, fsync of the directory), so a
// crash leaves the old or the new content. Parse errors name every bad
// line. A root without the file (a tarball unpacked by hand) has its
// states inferred: the release bin/NAME points to is permanent, the others
// unpacked.
//
// # What Unpack accepts
//
// A tarball is unpacked only when its SHA-256 equals the one in the
// sha256sum(1)-format file next to it (TARBALL.sha256). Its entries may
// only be directories, regular files and links under releases/VSN/, the
// link bin/NAME -> ../releases/VSN/NAME, and the empty directories bin/,
// releases/, tmp/ and log/. Refused, with nothing under the root changed:
// absolute names, "..", symbolic links whose target is absolute, not clean
// or resolves outside releases/VSN/, hard links to anything but a regular
// file unpacked before them, devices, named pipes, setuid, setgid and
// sticky bits, duplicate entries, entries below a file or link, entries of
// another version, and files in tmp/ or log/. Files at the release root
// (overlays from rel/overlays, such as etc/app.conf or bin/hook.sh) must be
// listed in release.json but are not installed: an upgrade installs only
// releases/VSN/ and bin/NAME, and [UnpackResult].Skipped names them so the
// operator can unpack the tarball over the root to update them. The bounds: at most
// [DefaultMaxSize] (1 GiB) of file content and [DefaultMaxEntries] (10 000)
// entries, and a decompressed stream of at most that size plus 8 KiB of tar
// headers per entry and 1 MiB; [UnpackOptions] changes them. The staged
// tree must then match its release.json exactly: the asked name and
// version, the target OS/architecture, every listed file with its size,
// mode and SHA-256, and no file it does not list.
//
// # NOTES
//
// Staging happens in ROOT/releases/.unpack-VSN-*, on the same file system
// as the release, and the finished directory is moved into place with one
// rename. When releases/VSN/ exists already because the operator put the
// tarball there, its files are hard-linked into the staged directory and
// the two directories are swapped with renameat2(RENAME_EXCHANGE) on
// Linux; elsewhere, and on file systems without it, with two renames.
//
// Changes are serialised by an flock(2) on ROOT/releases; a second
// upgrade running at the same time fails with [ErrBusy] after half a
// second.
package install
