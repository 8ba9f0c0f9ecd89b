package release

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/relkit/relkit/runtimeconfig"
)

const configSummary = "print every variable the app reads: value (secrets redacted), source, default"

// configCommand lists every variable the release reads.
type configCommand struct {
	json bool
}

func (c *configCommand) run(_ context.Context, r *runner, args []string) error {
	fs := r.flags("config", "[-json]", configSummary+"; exits 78 when the configuration is invalid")
	fs.BoolVar(&c.json, "json", false, "print JSON instead of a table")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	vars, err := r.settings.Vars()
	// The checks start makes of DATABASE_URL before it connects: config is
	// the pre-flight, so it fails where start would, with start's message.
	err = joinConfigErrors(err, r.checkDatabase())
	// A value from the release's environment file says so.
	for i, v := range vars {
		if v.Source == runtimeconfig.SourceEnv && r.env.FromFile(v.Name) {
			vars[i].Source = runtimeconfig.Source(r.env.File())
		}
	}
	if c.json {
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
		if v.Source == runtimeconfig.SourceUnset {
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
