package install

import "fmt"

// maxNameLen bounds release names and versions.
const maxNameLen = 128

// CheckVersion reports whether vsn can name a release directory: 1 to 128
// ASCII letters, digits, '.', '_', '+' or '-', starting with a letter or
// digit, and not "RELEASES". The error matches [ErrInvalidName].
func CheckVersion(vsn string) error {
	if !plainName(vsn) || vsn == StateFile {
		return fmt.Errorf("%w: version %q: use 1 to %d letters, digits, '.', '_', '+' or '-', starting with a letter or digit (e.g. 1.2.0)", ErrInvalidName, vsn, maxNameLen)
	}
	return nil
}

// CheckName reports whether name can name a release (and its binary): the
// same characters as [CheckVersion]. The error matches [ErrInvalidName].
func CheckName(name string) error {
	if !plainName(name) {
		return fmt.Errorf("%w: release name %q: use 1 to %d letters, digits, '.', '_', '+' or '-', starting with a letter or digit", ErrInvalidName, name, maxNameLen)
	}
	return nil
}

// plainName accepts names that are safe as one path element and as a glob
// pattern: no separators, no wildcards, no leading dot.
func plainName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '+' || c == '-'):
		default:
			return false
		}
	}
	return true
}
