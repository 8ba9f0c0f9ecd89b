package relspec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

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
// other name; see [CheckMigrationFile] for why.
func ParseMigrationFile(name string) (f MigrationFile, ok bool) {
	f, err := CheckMigrationFile(name)
	return f, err == nil
}

// Errors of [CheckMigrationFile].
var (
	ErrNotMigrationFile = errors.New("not a migration file name")
	ErrVersionTooLarge  = errors.New("migration version too large")
)

// CheckMigrationFile is [ParseMigrationFile] with the reason a name is
// refused: not of the form ([ErrNotMigrationFile]), or a version too large
// for 63 bits ([ErrVersionTooLarge]).
func CheckMigrationFile(name string) (MigrationFile, error) {
	bad := fmt.Errorf("%q is %w: want %s", name, ErrNotMigrationFile, MigrationFilePattern)
	rest, up := strings.CutSuffix(name, ".up.sql")
	if !up {
		var down bool
		if rest, down = strings.CutSuffix(name, ".down.sql"); !down {
			return MigrationFile{}, bad
		}
	}
	digits, label, found := strings.Cut(rest, "_")
	if !found || digits == "" || label == "" || strings.Trim(digits, "0123456789") != "" {
		return MigrationFile{}, bad
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return MigrationFile{}, fmt.Errorf("migration %q: %w (at most %d)", name, ErrVersionTooLarge, int64(1<<63-1))
	}
	return MigrationFile{Digits: digits, Version: uint64(v), Label: label, Up: up}, nil
}
