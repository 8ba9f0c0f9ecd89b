package relspec

import (
	"errors"
	"fmt"
)

// Limits of release names and versions.
const (
	// MaxNameLen bounds a release name: it names the binary, the systemd
	// unit and (lower-cased) Kubernetes objects, whose names are DNS
	// labels of at most 63 characters.
	MaxNameLen = 63
	// MaxVersionLen bounds a version: it names the directory
	// releases/VSN.
	MaxVersionLen = 128
)

// StateFile is the name of the file under releases/ that records the
// installed releases' states, so no version may be called that.
const StateFile = "RELEASES"

// ErrInvalidName is matched by the errors of [CheckName] and
// [CheckVersion].
var ErrInvalidName = errors.New("invalid release name or version")

// CheckName reports whether name can name a release: 1 to 63 ASCII
// letters, digits, '.', '_' or '-', starting with a letter or digit and not
// ending with '.'. Such a name is safe as a file name, a glob pattern, a
// systemd unit name and a binary name.
func CheckName(name string) error {
	if !plain(name, MaxNameLen, false) || name[len(name)-1] == '.' {
		return fmt.Errorf("%w: release name %q: use 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit (set release.App.Name)", ErrInvalidName, name, MaxNameLen)
	}
	return nil
}

// CheckVersion reports whether vsn can name a release directory
// releases/VSN: 1 to 128 ASCII letters, digits, '.', '_', '+' or '-',
// starting with a letter or digit, and not "RELEASES".
func CheckVersion(vsn string) error {
	if !plain(vsn, MaxVersionLen, true) || vsn == StateFile {
		return fmt.Errorf("%w: version %q: use 1 to %d letters, digits, '.', '_', '+' or '-', starting with a letter or digit (e.g. 1.2.0)", ErrInvalidName, vsn, MaxVersionLen)
	}
	return nil
}

// plain accepts names that are safe as one path element and as a glob
// pattern: no separators, no wildcards, no leading dot.
func plain(s string, max int, plus bool) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		case i > 0 && plus && c == '+':
		default:
			return false
		}
	}
	return true
}

// TarballName is the file name of a release tarball:
// NAME-VSN-OS-ARCH.tar.gz.
func TarballName(name, version, goos, goarch string) string {
	return name + "-" + version + "-" + goos + "-" + goarch + ".tar.gz"
}

// ChecksumName is the name of a tarball's checksum file, in sha256sum(1)'s
// format: the tarball's name with ".sha256" added.
func ChecksumName(tarball string) string { return tarball + ".sha256" }
