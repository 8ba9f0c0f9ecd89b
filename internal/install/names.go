package install

import "github.com/relkit/relkit/internal/relspec"

// CheckVersion reports whether vsn can name a release directory (see
// relspec.CheckVersion). The error matches [ErrInvalidName].
func CheckVersion(vsn string) error { return relspec.CheckVersion(vsn) }

// CheckName reports whether name can name a release and its binary (see
// relspec.CheckName). The error matches [ErrInvalidName].
func CheckName(name string) error { return relspec.CheckName(name) }
