package release

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const rollbackSummary = "revert migrations: the last one, -step N, -to VERSION (it and all after it), or -all -yes"

// rollbackCommand reverts migrations.
type rollbackCommand struct {
	step     int
	to       string
	all, yes bool
}

func (c *rollbackCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("rollback", "[-step N | -to VERSION | -all -yes]", rollbackSummary+
		"\n\n-to VERSION works as Ecto's rollback(repo, VERSION): it reverts VERSION and every\nmigration applied after it. Migrations without a down file stop a rollback before\nanything is reverted.")
	fs.IntVar(&c.step, "step", 0, "revert the last N migrations (default 1)")
	fs.StringVar(&c.to, "to", "", "revert migration VERSION and every migration after it")
	fs.BoolVar(&c.all, "all", false, "revert every migration (needs -yes)")
	fs.BoolVar(&c.yes, "yes", false, "confirm -all")
	step, to, all, yes := &c.step, &c.to, &c.all, &c.yes
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &UsageError{Problem: fmt.Sprintf("rollback takes no arguments, got %q", fs.Arg(0)), Try: r.app.name + " rollback -step " + fs.Arg(0)}
	}
	// -step 0 is an error, not "the default": nothing may be reverted by
	// a number that says none.
	stepSet := false
	fs.Visit(func(f *flag.Flag) { stepSet = stepSet || f.Name == "step" })
	if stepSet && *step <= 0 {
		return &UsageError{Problem: fmt.Sprintf("-step must be a positive number, got %d", *step), Try: r.app.name + " rollback -step 1"}
	}
	set := 0
	for _, on := range []bool{stepSet, *to != "", *all} {
		if on {
			set++
		}
	}
	if set > 1 {
		return &UsageError{Problem: "give only one of -step, -to and -all", Try: r.app.name + " rollback -h"}
	}
	var toVersion uint64
	if *to != "" {
		v, err := strconv.ParseUint(*to, 10, 63)
		if err != nil || v == 0 {
			return &UsageError{Problem: fmt.Sprintf("-to %s: want a migration's version", *to), Try: r.app.name + " migrate status   (lists the versions)"}
		}
		toVersion = v
	}
	if *all && !*yes {
		return &UsageError{Problem: "rollback -all reverts every migration and the data they hold; confirm with -yes", Try: r.app.name + " rollback -all -yes"}
	}
	base, log, err := r.setupDatabase()
	if err != nil {
		return err
	}
	if err := r.applyEnvFile(); err != nil {
		return err
	}
	m, mc, err := r.migrator(base, log)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := m.Rollback(ctx, *step, uint(toVersion), *all)
	if err != nil {
		return migrateError(err, mc)
	}
	if len(res.Ran) == 0 {
		fmt.Fprintf(r.stdout, "Nothing to roll back: the database is at version %s.\n", res.Version)
		return nil
	}
	fmt.Fprintf(r.stdout, "Rolled back to version %s: reverted %d in %s (%s).\n", res.Version, len(res.Ran),
		time.Since(start).Round(time.Millisecond), strings.Join(res.Ran, ", "))
	return nil
}
