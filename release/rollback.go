package release

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/migratehook"
)

const rollbackSummary = "revert migrations: the last one, -step N, -to VERSION (it and all after it), or -all -yes; one the running release needs only with -yes"

// rollbackCommand reverts migrations.
type rollbackCommand struct {
	step     int
	to       string
	all, yes bool
}

func (c *rollbackCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("rollback", "[-step N | -to VERSION | -all] [-yes]", rollbackSummary+
		"\n\n-to VERSION works as Ecto's rollback(repo, VERSION): it reverts VERSION and every\nmigration applied after it. Migrations without a down file stop a rollback before\nanything is reverted.\n\nA rollback that would revert a migration the running release needs (one up to its\nnewest) is refused unless -yes: that release would serve on a schema older than its\ncode. To go back to an older release, downgrade VSN -rollback switches first and\nreverts after.")
	fs.IntVar(&c.step, "step", 0, "revert the last N migrations (default 1)")
	fs.StringVar(&c.to, "to", "", "revert migration VERSION and every migration after it")
	fs.BoolVar(&c.all, "all", false, "revert every migration (needs -yes)")
	fs.BoolVar(&c.yes, "yes", false, "confirm -all, or a rollback of a migration the running release needs")
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
	if !*yes {
		if err := r.checkRunningNeeds(ctx, m, *step, int(toVersion), args); err != nil {
			return migrateError(err, mc)
		}
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

// checkRunningNeeds refuses a rollback (-step step, or -to to) that would
// revert a migration the running release needs: one up to that release's
// newest migration, which it would then serve without. It passes when
// nothing runs, when the running release's migrations are not known (it
// is not installed in this root), and when the rollback would fail anyway
// (Rollback then says why).
func (r *runner) checkRunningNeeds(ctx context.Context, m migratehook.Migrator, step, to int, args []string) error {
	running, top, ok := r.runningMigrations(ctx, m)
	if !ok || top == install.NoMigrations {
		return nil
	}
	applied, err := m.Applied(ctx)
	if err != nil {
		return err
	}
	var reverted []int
	if to != 0 {
		for i, v := range applied {
			if v >= to {
				reverted = applied[i:]
				break
			}
		}
	} else {
		n := max(step, 1)
		if n > len(applied) {
			return nil
		}
		reverted = applied[len(applied)-n:]
	}
	var needed []string
	for _, v := range reverted {
		if v <= top {
			needed = append(needed, strconv.Itoa(v))
		}
	}
	if len(needed) == 0 {
		return nil
	}
	what := "migration " + needed[0]
	if len(needed) > 1 {
		what = "migrations " + strings.Join(needed, ", ")
	}
	return &UsageError{
		Problem: fmt.Sprintf("this rollback reverts %s, which the running release %s needs (its newest migration is %d): it would serve on a schema older than its code. To go back to an older release, switch first and revert after with %s downgrade VSN -rollback",
			what, running, top, r.app.name),
		Try: strings.Join(append([]string{r.app.name, "rollback"}, append(args, "-yes")...), " ") + "   (revert anyway)",
	}
}

// runningMigrations returns the version of the release the running system
// runs and its newest migration (this binary's when it is that release,
// else from its manifest in the root); ok is false when nothing runs or
// that release's migrations are not known.
func (r *runner) runningMigrations(ctx context.Context, m migratehook.Migrator) (string, int, bool) {
	running, err := r.runningVersion(ctx)
	if err != nil || running == "" {
		return "", 0, false
	}
	if running == r.app.version {
		return running, m.Latest(), true
	}
	p, err := r.settings.Paths()
	if err != nil || !p.Assembled {
		return "", 0, false
	}
	root, err := install.Open(p.Root, r.app.name)
	if err != nil {
		return "", 0, false
	}
	top, err := root.HighestMigration(running)
	if err != nil {
		return "", 0, false
	}
	return running, top, true
}
