package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"github.com/relkit/relkit/internal/relspec"

	"github.com/golang-migrate/migrate/v4/source"
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

// Migration is one migration file pair of the binary.
type Migration struct {
	// Version orders migrations: the number before the first underscore.
	Version uint
	// Name is the part between the version and ".up.sql": "create_links".
	Name string
	// Up and Down are the file names; Down is "" when there is no down file.
	Up, Down string
	// UpSHA256 and DownSHA256 are the hex SHA-256 of the files' contents.
	// UpSHA256 is the checksum recorded when the migration is applied.
	// DownSHA256 is set by [List] when there is a down file; a Migrator
	// reads down files only when it rolls back.
	UpSHA256, DownSHA256 string

	up []byte
}

// String returns the up file's name without its extension, "003_add_clicks".
func (m Migration) String() string {
	return m.Up[:len(m.Up)-len(".up.sql")]
}

// FilePattern describes the accepted migration file names: golang-migrate's
// pattern (NNN_name.up.ext) restricted to .sql files, the rule every part
// of relkit applies (internal/relspec).
const FilePattern = relspec.MigrationFilePattern

// List reads the migrations at the root of fsys, sorted by version, with the
// SHA-256 of each file. Every file at the root must be a migration: a file
// with another name, a sub-directory, two files for the same version and
// direction, or a down file without an up file is an error (a
// [*FilesError]) naming each offending file. An empty fsys has no
// migrations and is not an error.
func List(fsys fs.FS) ([]Migration, error) {
	ms, _, err := load(fsys, true)
	return ms, err
}

// load reads and checks the migrations of fsys, reading down files only
// when downs is true, and returns the source they can be read from later.
func load(fsys fs.FS, downs bool) ([]Migration, source.Driver, error) {
	if fsys == nil {
		return nil, nil, nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, nil, fmt.Errorf("migrate: read migrations: %w", err)
	}
	var bad []BadFile
	byVersion := map[uint]*Migration{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			bad = append(bad, BadFile{Name: name + "/", Reason: "a directory: migrations must sit at the root of the file system (pass fs.Sub(fsys, \"" + name + "\") if they are inside it)"})
			continue
		}
		f, err := relspec.CheckMigrationFile(name)
		if err != nil {
			reason := "not a migration file name: want " + FilePattern
			if errors.Is(err, relspec.ErrVersionTooLarge) {
				digits, _, _ := strings.Cut(name, "_")
				reason = "version " + digits + " is too large"
			}
			bad = append(bad, BadFile{Name: name, Reason: reason})
			continue
		}
		v := f.Version
		m := byVersion[uint(v)]
		if m == nil {
			m = &Migration{Version: uint(v)}
			byVersion[uint(v)] = m
		}
		slot, other := &m.Up, "up"
		if !f.Up {
			slot, other = &m.Down, "down"
		}
		if *slot != "" {
			bad = append(bad, BadFile{Name: name, Reason: fmt.Sprintf("same version and direction as %s: each version needs exactly one %s file", *slot, other)})
			continue
		}
		*slot = name
		if f.Up || m.Name == "" {
			m.Name = f.Label
		}
	}
	for _, m := range byVersion {
		if m.Up == "" && m.Down != "" {
			bad = append(bad, BadFile{Name: m.Down, Reason: "a down file without an up file"})
		}
	}
	if len(bad) > 0 {
		sort.Slice(bad, func(i, j int) bool { return bad[i].Name < bad[j].Name })
		return nil, nil, &FilesError{Files: bad}
	}

	// The files are valid by relkit's rules; read them through
	// golang-migrate's io/fs source so both agree on what a migration is.
	src, err := iofs.New(fsys, ".")
	if err != nil {
		return nil, nil, fmt.Errorf("migrate: read migrations: %w", err)
	}
	ms := make([]Migration, 0, len(byVersion))
	for v, err := src.First(); ; v, err = src.Next(v) {
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("migrate: read migrations: %w", err)
		}
		m := byVersion[v]
		if m == nil {
			return nil, nil, fmt.Errorf("migrate: read migrations: version %d found by golang-migrate but not by relkit", v)
		}
		if m.up, err = read(src.ReadUp(v)); err != nil {
			return nil, nil, fmt.Errorf("migrate: read %s: %w", m.Up, err)
		}
		m.UpSHA256 = sum(m.up)
		if downs && m.Down != "" {
			down, err := readDown(src, *m)
			if err != nil {
				return nil, nil, err
			}
			m.DownSHA256 = sum(down)
		}
		ms = append(ms, *m)
	}
	if len(ms) != len(byVersion) {
		return nil, nil, fmt.Errorf("migrate: read migrations: golang-migrate found %d versions, relkit %d", len(ms), len(byVersion))
	}
	return ms, src, nil
}

// readDown reads m's down file from src.
func readDown(src source.Driver, m Migration) ([]byte, error) {
	b, err := read(src.ReadDown(m.Version))
	if err != nil {
		return nil, fmt.Errorf("migrate: read %s: %w", m.Down, err)
	}
	return b, nil
}

func read(r io.ReadCloser, _ string, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
