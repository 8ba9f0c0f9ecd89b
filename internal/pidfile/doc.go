// Package pidfile writes and reads the PID file of a daemonised release
// (RELEASE_TMP/NAME.pid) and holds the lock that lets only one instance of a
// release run per RELEASE_TMP.
//
// A PID file only says which process claimed to be the release; it proves
// nothing about a live process with that number, which may be another
// program that got the PID after a crash. relkit therefore never signals a
// PID read from a file: it asks the control socket, whose peer credentials
// name the process that answers. This package gives the file its two safe
// operations: [Write] replaces it atomically (a reader never sees a partial
// number) and [Remove] deletes it only when it still names the caller.
//
// [Lock] is the single-instance guard. It is an flock(2) on NAME.lock that
// the kernel releases when the holder dies, so a crash never leaves a lock
// behind, and whoever holds it knows any PID file or socket it finds is
// stale.
//
// Neither file is ever opened through a symbolic link: both are opened with
// O_NOFOLLOW and must be regular files of the release's own
// ([ErrNotRegular]), so a link planted in RELEASE_TMP cannot make the
// release read, lock or create another file.
package pidfile
