package migrate

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"time"
)

// Rollback reverts applied migrations by running their down files, newest
// first; see [RollbackOptions] for what it selects. It never runs
// golang-migrate's Down, which reverts everything.
//
// Before reverting anything it checks that every selected migration has a
// down file ([*NoDownFileError] names the first that lacks one) and an
// unedited up file ([*HistoryError]); nothing is reverted when a check
// fails. Nothing applied is not an error: the Result is empty.
// Cancellation works as in [Migrator.Up].
func (m *Migrator) Rollback(ctx context.Context, opts RollbackOptions) (Result, error) {
	if err := opts.validate(); err != nil {
		return Result{}, err
	}
	if opts.To != 0 && m.find(int(opts.To)) == nil {
		return Result{}, fmt.Errorf("%w: rollback to %d: the binary has no migration %d", ErrUnknownVersion, opts.To, opts.To)
	}
	l, st, err := m.lockState(ctx)
	if err != nil {
		return Result{}, err
	}
	defer m.unlock(ctx, l)
	res := Result{Version: st.version}
	if st.dirty {
		return res, m.dirtyError(st, l.dialect.TransactionalDDL)
	}
	if st.version > m.latest() {
		return res, &NewerSchemaError{Version: st.version, Latest: m.latest()}
	}
	p := m.plan(st)
	if err := m.reconcile(ctx, l, p); err != nil {
		return res, err
	}

	// The applied migrations, from history, are what can be reverted: a
	// missing file among them blocks the rollback like a missing down file.
	type step struct {
		mg   *Migration
		rec  record
		prev int
	}
	var applied []step
	for _, mg := range p.applied {
		applied = append(applied, step{mg: m.find(int(mg.Version)), rec: record{Version: mg.Version, Name: mg.Name}})
	}
	for _, r := range p.missing {
		applied = append(applied, step{rec: r})
	}
	sort.Slice(applied, func(i, j int) bool { return applied[i].rec.Version < applied[j].rec.Version })
	for i := range applied {
		applied[i].prev = NilVersion
		if i > 0 {
			applied[i].prev = int(applied[i-1].rec.Version)
		}
	}

	var targets []step
	switch {
	case opts.All:
		targets = applied
	case opts.To != 0:
		for i, s := range applied {
			if s.rec.Version >= opts.To {
				targets = applied[i:]
				break
			}
		}
	default:
		n := opts.Step
		if n == 0 {
			n = min(1, len(applied)) // the default: the last one, if any
		}
		if n > len(applied) {
			return res, fmt.Errorf("%w: rollback -step %d: only %d migrations are applied; nothing was rolled back (revert them all with -all)", ErrBadRollback, n, len(applied))
		}
		targets = applied[len(applied)-n:]
	}
	edited := map[uint]bool{}
	for _, mg := range p.edited {
		edited[mg.Version] = true
	}
	var editedTargets []Migration
	for i := len(targets) - 1; i >= 0; i-- {
		s := targets[i]
		if s.mg == nil {
			return res, fmt.Errorf("%w: cannot roll back %d_%s: this binary has no file for it; nothing was rolled back. Roll back with the release that has it, or revert it by hand and run %s migrate force %s",
				ErrNoDownFile, s.rec.Version, s.rec.Name, m.opts.Command, FormatVersion(s.prev))
		}
		if s.mg.Down == "" {
			return res, &NoDownFileError{Migration: *s.mg, Command: m.opts.Command, Previous: s.prev}
		}
		if edited[s.mg.Version] {
			editedTargets = append(editedTargets, *s.mg)
		}
	}
	if len(editedTargets) > 0 {
		return res, &HistoryError{Edited: editedTargets, Version: st.version, Command: m.opts.Command}
	}

	log := m.opts.Logger
	if len(targets) == 0 {
		log.Info("nothing to roll back", "version", FormatVersion(st.version))
		return res, nil
	}
	if err := m.prepare(ctx, l); err != nil {
		return res, err
	}
	start := time.Now()
	for i := len(targets) - 1; i >= 0; i-- {
		s := targets[i]
		if ctx.Err() != nil {
			var rest []Migration
			for _, t := range targets[:i+1] {
				rest = append(rest, *t.mg)
			}
			return res, &InterruptedError{Done: res.Ran, Remaining: rest, Version: res.Version, Err: context.Cause(ctx)}
		}
		d, err := m.revert(ctx, l, *s.mg, s.prev)
		if err != nil {
			return res, err
		}
		res.Ran = append(res.Ran, Ran{Migration: *s.mg, Duration: d})
		res.Version = s.prev
		log.Info("reverted migration", "version", s.mg.Version, "name", s.mg.Name, "duration", d.Round(time.Microsecond))
	}
	log.Info("migrations rolled back", "count", len(res.Ran), "version", FormatVersion(res.Version), "duration", time.Since(start).Round(time.Microsecond))
	return res, nil
}

func (o RollbackOptions) validate() error {
	set := 0
	if o.Step != 0 {
		set++
	}
	if o.To != 0 {
		set++
	}
	if o.All {
		set++
	}
	switch {
	case o.Step < 0:
		return fmt.Errorf("%w: step %d: want a positive number of migrations", ErrBadRollback, o.Step)
	case set > 1:
		return fmt.Errorf("%w: give one of step, to and all", ErrBadRollback)
	}
	return nil
}

// revert runs one down file: mark the previous version dirty (as
// golang-migrate does), run the file, then drop its record and mark the
// previous version clean in one transaction.
func (m *Migrator) revert(ctx context.Context, l *locked, mg Migration, prev int) (time.Duration, error) {
	ctx = context.WithoutCancel(ctx)
	down, err := readDown(m.src, mg)
	if err != nil {
		return 0, err
	}
	if err := l.gm.SetVersion(prev, true); err != nil {
		return 0, fmt.Errorf("migrate: mark version %s dirty before %s: %w", FormatVersion(prev), mg.Down, err)
	}
	start := time.Now()
	if err := l.gm.Run(bytes.NewReader(down)); err != nil {
		return 0, &DirtyError{
			Version: prev, Failed: &mg, Down: true, Line: errorLine(err, l.dialect),
			Engine: m.drv.Engine, RolledBack: l.dialect.TransactionalDDL, Cause: err,
			Command: m.opts.Command, Previous: prev,
		}
	}
	d := time.Since(start)
	tx, err := l.s.DB().BeginTx(ctx, nil)
	if err != nil {
		return d, fmt.Errorf("migrate: %s ran but recording it failed; the database is dirty at version %s: %w", mg.Down, FormatVersion(prev), err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+l.dialect.HistoryTable+" WHERE version = "+l.dialect.Placeholder(1), int64(mg.Version)); err != nil {
		return d, fmt.Errorf("migrate: drop the record of %s: %w", mg, err)
	}
	if err := setVersion(ctx, tx, l.dialect, prev); err != nil {
		return d, err
	}
	if err := tx.Commit(); err != nil {
		return d, fmt.Errorf("migrate: %s ran but recording it failed; the database is dirty at version %s: %w", mg.Down, FormatVersion(prev), err)
	}
	return d, nil
}
