package migrate

import (
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
	return m.rollback(ctx, opts, NilVersion-1)
}

// RollbackAfter reverts every applied migration newer than version, newest
// first, so that the database ends at version (NilVersion reverts them
// all): what a downgrade to a release whose newest migration is version
// needs, run with the newer binary, which has the down files. Unlike
// RollbackOptions.To, version itself stays applied, and it need not be one
// of the binary's migrations. A database at or below version is left as it
// is (an empty Result). Checks, errors and cancellation are those of
// [Migrator.Rollback].
func (m *Migrator) RollbackAfter(ctx context.Context, version int) (Result, error) {
	if version < NilVersion {
		return Result{}, fmt.Errorf("%w: rollback after %d: want a version, or NilVersion for all", ErrBadRollback, version)
	}
	return m.rollback(ctx, RollbackOptions{}, version)
}

// rollback reverts what opts selects, or, when after is not below
// NilVersion, every applied migration newer than after.
func (m *Migrator) rollback(ctx context.Context, opts RollbackOptions, after int) (Result, error) {
	l, st, err := m.lockState(ctx)
	if err != nil {
		return Result{}, err
	}
	defer m.unlock(ctx, l)
	res := Result{Version: st.version}
	if st.dirty {
		return res, m.dirtyError(st, l.dialect)
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
	case after >= NilVersion:
		for i, s := range applied {
			if int(s.rec.Version) > after {
				targets = applied[i:]
				break
			}
		}
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

// revert runs one down file: where the engine can, the file, dropping its
// record and the new clean version commit in one transaction; otherwise,
// as golang-migrate does, mark the previous version dirty, run the file,
// then drop its record and mark the previous version clean in one
// transaction. See apply.
func (m *Migrator) revert(ctx context.Context, l *locked, mg Migration, prev int) (time.Duration, error) {
	down, err := readDown(m.src, mg)
	if err != nil {
		return 0, err
	}
	record := append([]string{unrecordSQL(l.dialect, mg.Version)}, versionSQL(l.dialect, prev, false)...)
	return m.run(ctx, l, mg, true, down, record, prev)
}
