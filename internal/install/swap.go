package install

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// swapByRenames swaps a and b through a temporary name: b moves aside, a
// takes its place, the old b takes a's. On failure the first step is
// undone.
func swapByRenames(a, b string) error {
	aside := a + ".swap"
	if err := os.Rename(b, aside); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		if rerr := os.Rename(aside, b); rerr != nil {
			return fmt.Errorf("%w; restoring %s from %s failed too: %v", err, b, aside, rerr)
		}
		return err
	}
	return os.Rename(aside, a)
}

// renameIfAbsent renames a to b unless b exists.
func renameIfAbsent(a, b string) error {
	if _, err := os.Lstat(b); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s exists already", b)
	}
	return os.Rename(a, b)
}
