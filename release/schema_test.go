package release

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/manifest"
)

// fakeSchema is a database whose schema is at a fixed version.
type fakeSchema struct {
	version int
	err     error
}

func (f fakeSchema) SchemaVersion(context.Context) (int, error) { return f.version, f.err }

// schemaRoot is a root with release 1.0.0 (migrations 1, 2), 2.0.0 (1, 2,
// 3, 5) and 0.9.0 (none) installed.
func schemaRoot(t *testing.T) *install.Root {
	t.Helper()
	dir := t.TempDir()
	for vsn, migs := range map[string][]string{
		"0.9.0": nil,
		"1.0.0": {"001_links.up.sql", "001_links.down.sql", "002_clicks.up.sql", "002_clicks.down.sql"},
		"2.0.0": {"001_links.up.sql", "002_clicks.up.sql", "003_tags.up.sql", "003_tags.down.sql", "005_owners.up.sql"},
	} {
		m := &manifest.Manifest{Name: "links", Version: vsn, OS: "linux", Arch: "amd64"}
		for _, f := range migs {
			m.Migrations = append(m.Migrations, manifest.Migration{File: f, SHA256: strings.Repeat("0", 64)})
		}
		if err := os.MkdirAll(filepath.Join(dir, "releases", vsn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := m.Write(filepath.Join(dir, "releases", vsn, manifest.FileName)); err != nil {
			t.Fatal(err)
		}
	}
	root, err := install.Open(dir, "links")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestCheckSchema(t *testing.T) {
	t.Parallel()
	root := schemaRoot(t)
	tests := []struct {
		name            string
		running, target string
		db              schemaReader
		wantErr         string // "" for no error
	}{
		{name: "database at the target's newest migration", running: "2.0.0", target: "1.0.0", db: fakeSchema{version: 2}},
		{name: "database older than the target", running: "2.0.0", target: "1.0.0", db: fakeSchema{version: 1}},
		{name: "database newer: rollback to the first migration after the target's",
			running: "2.0.0", target: "1.0.0", db: fakeSchema{version: 5},
			wantErr: "the database's schema is at version 5, newer than release 1.0.0 knows (its newest migration is 2); links downgrade 1.0.0 -rollback switches to 1.0.0, then reverts the newer migrations with the running release's down files"},
		{name: "target without migrations", running: "1.0.0", target: "0.9.0", db: fakeSchema{version: 2},
			wantErr: "(its newest migration is none);"},
		{name: "target without migrations, rollback -to the first", running: "1.0.0", target: "0.9.0", db: fakeSchema{version: 2},
			wantErr: "links downgrade 0.9.0 -rollback"},
		{name: "database newer than any installed release knows", running: "1.0.0", target: "0.9.0", db: fakeSchema{version: 9},
			wantErr: "links downgrade 0.9.0 -rollback"},
		{name: "database newer than any migration the running release has", running: "0.9.0", target: "0.9.0", db: fakeSchema{version: 4},
			wantErr: "links downgrade 0.9.0 -rollback"},
		{name: "database unreadable", running: "2.0.0", target: "1.0.0", db: fakeSchema{err: errors.New("connection refused")},
			wantErr: "read the database's schema version, to check that release 1.0.0 works with it: connection refused\nTry: links downgrade 1.0.0 -force"},
		{name: "no reader, target has every migration of the running release", running: "1.0.0", target: "2.0.0"},
		{name: "no reader, running release has newer migrations", running: "2.0.0", target: "1.0.0",
			wantErr: "release 2.0.0 has migrations up to 5, release 1.0.0 only up to 2, and this command cannot read the database's schema version (DATABASE_URL is not set for it); set DATABASE_URL and run links downgrade 1.0.0 -rollback, which switches first and then reverts the migrations after 2 with release 2.0.0's down files, or, if none of them was applied, links downgrade 1.0.0 -force"},
		{name: "no reader, running release not installed here", running: "3.0.0", target: "1.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkSchema(context.Background(), "links", root, tt.running, tt.target, tt.db)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("want no error, got %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("want an error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
	if err := checkSchema(context.Background(), "links", root, "2.0.0", "7.0.0", nil); !errors.Is(err, install.ErrNotInstalled) {
		t.Errorf("target not installed: want ErrNotInstalled, got %v", err)
	}
}
