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
	"strings"
)

// Info describes the running release.
type Info struct {
	Name    string
	Version string
}

type infoKey struct{}

func withInfo(ctx context.Context, i Info) context.Context {
	return context.WithValue(ctx, infoKey{}, i)
}

// InfoFrom returns the release's name and version from a context given to a
// Handler or a task.
func InfoFrom(ctx context.Context) Info {
	i, _ := ctx.Value(infoKey{}).(Info)
	return i
}

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

// info prints the release description relkit build records in
// release.json. It reads no environment: it reports the code's defaults.
func (r *runner[C]) info(_ context.Context, args []string) error {
	fs := r.flags("relkit-info", "", infoSummary)
	if err := r.parse(fs, args); err != nil {
		return err
	}
	saved := r.env
	r.env = map[string]string{}
	_, base, vars, _ := r.loadConfig()
	r.env = saved
	bi := buildInfo{Name: r.name, Version: r.version, Server: r.app.Server, Port: base.Port,
		Variables: []infoVariable{}, Migrations: []infoMigration{}}
	for _, v := range vars {
		iv := infoVariable{Name: v.Name, Secret: v.Secret, Required: v.Required}
		if v.HasDefault && !v.Secret {
			iv.Default = v.Default
		}
		bi.Variables = append(bi.Variables, iv)
	}
	ms, err := migrationFiles(r.app.Migrations)
	if err != nil {
		return err
	}
	bi.Migrations = append(bi.Migrations, ms...)
	enc := json.NewEncoder(r.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(bi)
}

// migrationFiles lists the .sql files at the root of fsys with their
// SHA-256, sorted by name.
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
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
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
