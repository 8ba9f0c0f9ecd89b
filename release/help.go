package release

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
)

const helpSummary = "list the commands"

// helpCommand lists the commands.
type helpCommand struct{}

func (c *helpCommand) run(_ context.Context, r *runner, args []string) error {
	if err := r.parse(r.flags("help", "", helpSummary), args); err != nil {
		return err
	}
	r.writeHelp(r.stdout)
	return nil
}

func (r *runner) writeHelp(w io.Writer) {
	name := r.app.name
	fmt.Fprintf(w, "%s %s, a release built with relkit\n\nUsage: %s COMMAND [ARGS]\n\nCommands:\n", name, r.app.version, name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.commands() {
		if !c.hidden {
			fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun \"%s COMMAND -h\" for a command's flags, \"%s config\" for its configuration.\n"+
		"Exit codes: 0 ok, 1 failure, 64 usage error, 78 configuration error.\n", name, name)
}
