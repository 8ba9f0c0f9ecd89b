package install

import (
	"fmt"
	"path"
	"slices"

	"github.com/relkit/relkit/internal/relspec"

	"github.com/relkit/relkit/internal/manifest"
)

// NoMigrations is the version [HighestMigration] returns for a release
// without migrations; it equals the migrate package's NilVersion, the
// version of a database no migration has run on.
const NoMigrations = -1

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
		f, err := relspec.CheckMigrationFile(path.Base(mig.File))
		if err != nil {
			return nil, fmt.Errorf("release.json of %s %s lists migration %q: %w; rebuild the release", m.Name, m.Version, mig.File, err)
		}
		if f.Up {
			out = append(out, int(f.Version))
		}
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
