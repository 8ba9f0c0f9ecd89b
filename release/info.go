package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"github.com/relkit/relkit/internal/environ"
	"github.com/relkit/relkit/internal/relspec"
)

// infoCommandName is the hidden command relkit build asks a freshly built
// binary about itself.
const infoCommandName = "relkit-info"

const infoSummary = "print the release's name, version, defaults and migrations as JSON (for relkit build)"

// buildInfo is what relkit build asks a freshly built binary.
type buildInfo struct {
	Name       string          `json:"name"`
	Version    string          `json:"version"`
	Server     bool            `json:"server"`
	Port       int             `json:"port"`
	Variables  []infoVariable  `json:"variables"`
	Migrations []infoMigration `json:"migrations"`
}

type infoVariable struct {
	Name     string `json:"name"`
	Secret   bool   `json:"secret"`
	Required bool   `json:"required"`
	Default  string `json:"default,omitempty"`
}

type infoMigration struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// infoCommand prints the release description relkit build records in
// release.json. It reads no environment: it reports the code's defaults.
type infoCommand struct{}

func (c *infoCommand) run(_ context.Context, r *runner, args []string) error {
	if err := r.parse(r.flags(infoCommandName, "", infoSummary), args); err != nil {
		return err
	}
	empty := newSettings(r.app, environ.New(map[string]string{}), r.exe, r.cwd)
	vars, _ := empty.Vars()
	base, _ := empty.Base()
	bi := buildInfo{Name: r.app.name, Version: r.app.version, Server: r.app.server, Port: base.Port,
		Variables: []infoVariable{}, Migrations: []infoMigration{}}
	for _, v := range vars {
		iv := infoVariable{Name: v.Name, Secret: v.Secret, Required: v.Required}
		if v.HasDefault && !v.Secret {
			iv.Default = v.Default
		}
		bi.Variables = append(bi.Variables, iv)
	}
	ms, err := migrationFiles(r.app.migrations)
	if err != nil {
		return err
	}
	bi.Migrations = append(bi.Migrations, ms...)
	enc := json.NewEncoder(r.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(bi)
}

// migrationFiles lists the migration files at the root of fsys with their
// SHA-256, sorted by name; anything else there is an error, as it is to
// package migrate.
func migrationFiles(fsys fs.FS) ([]infoMigration, error) {
	if fsys == nil {
		return nil, nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read the embedded migrations: %w", err)
	}
	var out []infoMigration
	for _, e := range entries {
		if _, ok := relspec.ParseMigrationFile(e.Name()); e.IsDir() || !ok {
			return nil, fmt.Errorf("the embedded migrations hold %s, which is not a migration file: want %s at the root", e.Name(), relspec.MigrationFilePattern)
		}
		b, err := fs.ReadFile(fsys, path.Clean(e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		out = append(out, infoMigration{File: e.Name(), SHA256: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}
