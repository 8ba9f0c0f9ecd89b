package install

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/relkit/relkit/internal/manifest"
)

// NoMigrations is the version [HighestMigration] returns for a release
// without migrations; it equals the migrate package's NilVersion, the
// version of a database no migration has run on.
const NoMigrations = -1

// parseMigrationFile splits a migration file name of the form the migrate
// package accepts, VERSION_NAME.up.sql or VERSION_NAME.down.sql (VERSION
// digits, NAME not empty), into its version digits and whether it is an up
// file. (Hand-written rather than a regexp: every release binary links
// this package, and regexp would add to each.)
func parseMigrationFile(name string) (digits string, up, ok bool) {
	rest, up := strings.CutSuffix(name, ".up.sql")
	if !up {
		var down bool
		if rest, down = strings.CutSuffix(name, ".down.sql"); !down {
			return "", false, false
		}
	}
	digits, label, found := strings.Cut(rest, "_")
	if !found || digits == "" || label == "" || strings.Trim(digits, "0123456789") != "" {
		return "", false, false
	}
	return digits, up, true
}

// HighestMigration returns the version of the newest migration embedded in
// the release m describes: the number before the first underscore of its
// newest .up.sql file, or [NoMigrations]. A downgrade to this release is
// safe for the database only when the database's schema version is not
// newer than this.
func HighestMigration(m *manifest.Manifest) (int, error) {
	vs, err := MigrationVersions(m)
	if err != nil || len(vs) == 0 {
		return NoMigrations, err
	}
	return vs[len(vs)-1], nil
}

// MigrationVersions returns the versions of the migrations embedded in the
// release m describes (those with an .up.sql file), in ascending order.
func MigrationVersions(m *manifest.Manifest) ([]int, error) {
	var out []int
	for _, mig := range m.Migrations {
		digits, up, ok := parseMigrationFile(path.Base(mig.File))
		if !ok {
			return nil, fmt.Errorf("release.json of %s %s lists migration %q, which is not named VERSION_NAME.up.sql or .down.sql: rebuild the release", m.Name, m.Version, mig.File)
		}
		if !up {
			continue
		}
		v, err := strconv.ParseInt(digits, 10, 0)
		if err != nil {
			return nil, fmt.Errorf("release.json of %s %s lists migration %q, whose version is too large: %w", m.Name, m.Version, mig.File, err)
		}
		out = append(out, int(v))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// HighestMigration returns the version of the newest migration of
// installed release vsn (see the function [HighestMigration]).
func (r *Root) HighestMigration(vsn string) (int, error) {
	m, err := r.Manifest(vsn)
	if err != nil {
		return 0, err
	}
	return HighestMigration(m)
}
