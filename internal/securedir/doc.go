// Package securedir makes sure a directory that holds a release's private
// files (RELEASE_TMP with the control socket, PID file and lock;
// RELEASE_LOG_DIR with the log) can be changed by nobody but the release's
// user and root, the way OpenSSH's StrictModes and sudo check the files
// they trust.
//
// [Ensure] creates the directory when it is missing and checks it; [Check]
// only checks. Both walk the path from / one component at a time, each
// opened relative to the one before with O_NOFOLLOW|O_DIRECTORY, so what is
// checked is what is used, and apply these rules for a user uid:
//
//   - the directory itself is owned by uid or root and writable by neither
//     group nor others (a new one is created 0700; an unpacked 0755 one is
//     fine: the files in it protect themselves, the socket being 0600);
//   - every parent up to / is owned by uid or root and writable by neither
//     group nor others, unless it has the sticky bit (as /tmp does: there
//     only an entry's owner may remove or rename it, and the entry is then
//     checked in turn);
//   - a symbolic link on the way is followed only when it is owned by uid or
//     root (it lives in a parent that passed the rules, so nobody else could
//     have placed it), and at most 40 of them.
//
// A directory breaking a rule is refused with an *[Error] naming it, its
// owner and mode, why that is unsafe and the command that fixes it.
// Nothing is ever chmod'ed or chown'ed to make it pass: a directory someone
// else controlled may hold anything, and the operator decides. Missing
// directories are created with mkdirat (mode 0700, owned by the calling
// process) and then checked like the others.
//
// The uid to pass is the effective uid of the process that will use the
// directory (os.Geteuid()).
package securedir
