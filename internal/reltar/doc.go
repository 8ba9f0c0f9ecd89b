// Package reltar writes release tarballs that are byte-for-byte
// reproducible: the same release tree gives the same .tar.gz on any machine,
// whoever runs the build, wherever the tree lives and whatever the umask.
//
// [Write] packs the files a release's manifest (release.json) lists, and
// nothing else, as gzip-compressed tar with
//
//   - entries in lexical order, directories before their contents;
//   - one fixed modification time for every entry (the release's build
//     time: SOURCE_DATE_EPOCH or the commit time);
//   - uid and gid 0, empty user and group names;
//   - modes normalised to 0755 for directories and executables, 0644 for
//     other files, and symbolic links kept as links;
//   - a gzip header without file name, modification time or OS variation.
//
// Entry names are relative to the release root (bin/NAME,
// releases/VSN/NAME, ...), so the tarball unpacks into an installation
// directory with `tar -xzf FILE -C DIR`. [Name] gives the conventional file
// name and [WriteChecksum] the sha256sum(1)-compatible .sha256 file.
package reltar
