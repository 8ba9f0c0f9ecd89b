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
