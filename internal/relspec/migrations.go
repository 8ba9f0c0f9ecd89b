package relspec

import "strings"

// MigrationFilePattern describes the accepted migration file names.
const MigrationFilePattern = "VERSION_NAME.up.sql / VERSION_NAME.down.sql, e.g. 001_create_links.up.sql"

// MigrationFile is a parsed migration file name.
type MigrationFile struct {
	// Digits is the version as written, e.g. "001".
	Digits string
	// Version is the version's value, e.g. 1.
	Version uint64
	// Label is the part between the version and the direction,
	// e.g. "create_links".
	Label string
	// Up reports an .up.sql file; false is a .down.sql file.
	Up bool
}

// ParseMigrationFile splits a migration file name, VERSION_LABEL.up.sql or
// VERSION_LABEL.down.sql (VERSION decimal digits, LABEL not empty), as
// golang-migrate's file source does for .sql files. ok is false for any
// other name and for a version too large for 63 bits.
func ParseMigrationFile(name string) (f MigrationFile, ok bool) {
	rest, up := strings.CutSuffix(name, ".up.sql")
	if !up {
		var down bool
		if rest, down = strings.CutSuffix(name, ".down.sql"); !down {
			return MigrationFile{}, false
		}
	}
	digits, label, found := strings.Cut(rest, "_")
	if !found || digits == "" || label == "" || len(digits) > 19 {
		return MigrationFile{}, false
	}
	var v uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return MigrationFile{}, false
		}
		v = v*10 + uint64(c-'0')
	}
	if v > 1<<63-1 {
		return MigrationFile{}, false
	}
	return MigrationFile{Digits: digits, Version: v, Label: label, Up: up}, true
}
