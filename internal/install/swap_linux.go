package install

import (
	"errors"

	"golang.org/x/sys/unix"
)

// exchange swaps the directories a and b in one renameat2(2) call with
// RENAME_EXCHANGE, so that b is never missing. File systems without it
// (EINVAL) get the two-step swap.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return swapByRenames(a, b)
	}
	return err
}

// renameNoReplace renames a to b, failing if b exists (even as an empty
// directory, which rename(2) would silently replace).
func renameNoReplace(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return renameIfAbsent(a, b)
	}
	return err
}
