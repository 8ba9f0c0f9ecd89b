package securedir

import "golang.org/x/sys/unix"

// openFlags open a directory for lookups and fstat only: O_PATH needs no
// read permission, so a parent mode 0711 can still be checked.
const openFlags = unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
