//go:build unix && !linux

package securedir

import "golang.org/x/sys/unix"

// openFlags open a directory for lookups and fstat (without O_PATH, which
// only Linux has, a parent must be readable).
const openFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
