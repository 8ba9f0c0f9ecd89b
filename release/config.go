package release

import (
	"context"

	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/relkit/relkit/runtimeconfig"
)

const configSummary = "print every variable the app reads: value (secrets redacted), source, default"

func (r *runner[C]) config(_ context.Context, args []string) error {
	fs := r.flags("config", "[-json]", configSummary+"; exits 78 when the configuration is invalid")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	_, _, vars, err := r.loadConfig()
	more, relErr := r.releaseVars(vars)
	vars = append(vars, more...)
	if err == nil {
		err = relErr
	}
	if *asJSON {
		type jsonVar struct {
			Name        string `json:"name"`
			Value       string `json:"value"`
			Source      string `json:"source"`
			Default     string `json:"default,omitempty"`
			Required    bool   `json:"required"`
			Secret      bool   `json:"secret"`
			Description string `json:"description,omitempty"`
		}
		out := make([]jsonVar, 0, len(vars))
		for _, v := range vars {
			out = append(out, jsonVar{v.Name, v.Value, string(v.Source), v.Default, v.Required, v.Secret, v.Description})
		}
		enc := json.NewEncoder(r.stdout)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(out); encErr != nil {
			return encErr
		}
		return err
	}
	tw := tabwriter.NewWriter(r.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tVALUE\tSOURCE\tDEFAULT\tREQUIRED\tDESCRIPTION")
	for _, v := range vars {
		value, def, req := v.Value, v.Default, "no"
		if v.Source == "unset" {
			value = "-"
		}
		if !v.HasDefault {
			def = "-"
		}
		if v.Required {
			req = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Name, value, v.Source, def, req, v.Description)
	}
	tw.Flush()
	return err
}

// releaseSettings are the settings the release itself reads, beyond the
// app's configuration: config lists them too, so that it shows every
// variable the binary reads.
func releaseSettings() []any {
	return []any{new(daemonConfig)}
}

// releaseVars describes the release's own settings and its runtime
// directories, leaving out variables already in have.
func (r *runner[C]) releaseVars(have []runtimeconfig.Var) ([]runtimeconfig.Var, error) {
	seen := map[string]bool{}
	for _, v := range have {
		seen[v.Name] = true
	}
	var out []runtimeconfig.Var
	add := func(v runtimeconfig.Var) {
		if !seen[v.Name] {
			seen[v.Name] = true
			out = append(out, v)
		}
	}
	var errs []error
	for _, s := range releaseSettings() {
		vars, err := runtimeconfig.Load(s, r.env, runtimeconfig.Options{})
		if err != nil {
			errs = append(errs, err)
		}
		for _, v := range vars {
			add(v)
		}
	}
	if p, err := r.paths(); err == nil {
		for _, d := range []struct{ name, value, desc string }{
			{"RELEASE_ROOT", p.Root, "root of the release: from the binary's location in an assembled release, else the working directory"},
			{"RELEASE_TMP", p.Tmp, "PID file, control socket and lock (created 0700); default RELEASE_ROOT/tmp"},
			{"RELEASE_LOG_DIR", p.Log, "the daemon's log files (created 0700); default RELEASE_ROOT/log"},
		} {
			src := runtimeconfig.SourceDefault
			if _, ok := r.env[d.name]; ok {
				src = runtimeconfig.SourceEnv
			}
			add(runtimeconfig.Var{Name: d.name, Value: d.value, Source: src, Description: d.desc})
		}
	}
	if len(errs) > 0 {
		return out, errs[0]
	}
	return out, nil
}
