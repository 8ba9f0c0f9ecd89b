package install

// SetFreeSpace makes the free-space check see free bytes, whatever the
// disk has, and returns a func restoring the real check.
func SetFreeSpace(free int64) (restore func()) {
	old := freeSpace
	freeSpace = func(string) (int64, error) { return free, nil }
	return func() { freeSpace = old }
}

// SignPrehashed is signPrehashed for the external tests.
var SignPrehashed = signPrehashed

// SetBeforeStateWrite makes r call f right before Prune or Unpack writes
// RELEASES, as if another process (the supervisor committing a probation
// rollback, which takes no lock) changed it at that moment.
func SetBeforeStateWrite(r *Root, f func()) { r.beforeStateWrite = f }
