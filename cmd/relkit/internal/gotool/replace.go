package gotool

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
)

// Replace is one replace directive of a go.mod whose replacement is a
// directory on disk, not a module version.
type Replace struct {
	// Old is the replaced module path (with its version, when the
	// directive names one), e.g. "github.com/relkit/relkit".
	Old string
	// New is the replacement as go.mod writes it, e.g. "../relkit".
	New string
	// Dir is New as an absolute, clean path.
	Dir string
}

// LocalReplaces returns the replace directives of the go.mod in moduleDir
// that point at local directories (go mod edit -json).
func (t *Toolchain) LocalReplaces(ctx context.Context, moduleDir string) ([]Replace, error) {
	out, err := t.output(ctx, nil, "mod", "edit", "-json", filepath.Join(moduleDir, "go.mod"))
	if err != nil {
		return nil, err
	}
	var mod struct {
		Replace []struct {
			Old, New struct{ Path, Version string }
		}
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		return nil, fmt.Errorf("read go mod edit -json output: %w", err)
	}
	var reps []Replace
	for _, r := range mod.Replace {
		if r.New.Version != "" {
			continue // a module version, fetched like any other
		}
		old := r.Old.Path
		if r.Old.Version != "" {
			old += "@" + r.Old.Version
		}
		dir := r.New.Path
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(moduleDir, dir)
		}
		reps = append(reps, Replace{Old: old, New: r.New.Path, Dir: filepath.Clean(dir)})
	}
	return reps, nil
}
