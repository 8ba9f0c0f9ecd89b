package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/relkit/relkit/migrate/internal/dbdriver"
	"github.com/relkit/relkit/migrate/internal/sqlscan"
)

// Result reports what a run did.
type Result struct {
	// Ran lists the migrations applied (Up) or reverted (Rollback), in the
	// order they ran.
	Ran []Ran
	// Version is the database's version afterwards.
	Version int
}

// Ran is one migration that ran, and how long it took.
type Ran struct {
	Migration
	Duration time.Duration
}

// NoChange reports whether the run had nothing to do.
func (r Result) NoChange() bool { return len(r.Ran) == 0 }

// Up applies every pending migration in version order, each in its own run
// of the file, logging each with its duration. A database already up to
// date is a success with [Result.NoChange] true.
//
// A file that fails is a [*FailedError] (rolled back with its record,
// PostgreSQL and SQLite) or a [*DirtyError] (MySQL, or a file that cannot
// run in a transaction); see [Migrator.Force] for the way out of the
// latter.
//
// Before running anything Up checks, under the lock, that the database is
// not dirty ([*DirtyError]), not newer than the binary
// ([*NewerSchemaError]), and that no applied file was edited and no older
// file was added after newer ones ran ([*HistoryError]).
//
// When ctx is cancelled Up finishes the migration in progress and returns an
// [*InterruptedError]; it never reports an interrupted run as a success.
func (m *Migrator) Up(ctx context.Context) (Result, error) {
	l, st, err := m.lockState(ctx)
	if err != nil {
		return Result{}, err
	}
	defer m.unlock(ctx, l)
	res := Result{Version: st.version}
	if st.dirty {
		return res, m.dirtyError(st, l.dialect)
	}
	p := m.plan(st)
	if err := m.integrity(st, p); err != nil {
		return res, err
	}
	if err := m.reconcile(ctx, l, p); err != nil {
		return res, err
	}
	log := m.opts.Logger
	if len(p.pending) == 0 {
		log.Info("database is up to date", "version", FormatVersion(st.version))
		return res, nil
	}
	if err := m.prepare(ctx, l); err != nil {
		return res, err
	}
	start := time.Now()
	for i, mg := range p.pending {
		if ctx.Err() != nil {
			return res, &InterruptedError{Done: res.Ran, Remaining: p.pending[i:], Version: res.Version, Err: context.Cause(ctx)}
		}
		d, err := m.apply(ctx, l, mg, res.Version)
		if err != nil {
			return res, err
		}
		res.Ran = append(res.Ran, Ran{Migration: mg, Duration: d})
		res.Version = int(mg.Version)
		log.Info("applied migration", "version", mg.Version, "name", mg.Name, "duration", d.Round(time.Microsecond))
	}
	log.Info("migrations applied", "count", len(res.Ran), "version", FormatVersion(res.Version), "duration", time.Since(start).Round(time.Microsecond))
	return res, nil
}

// apply runs one up file. Where the engine can (PostgreSQL, SQLite) the
// file, its checksum record and the new clean version commit in one
// transaction, so a run that dies part-way leaves the database as it was,
// clean, and the next run applies the file again; a failure is rolled
// back and leaves nothing to recover. Otherwise (MySQL, or a file that
// cannot run in a transaction) it does what golang-migrate does: mark the
// version dirty, run the file, then record it and mark it clean in one
// transaction. Once the file started it is carried through even if ctx is
// cancelled.
func (m *Migrator) apply(ctx context.Context, l *locked, mg Migration, prev int) (time.Duration, error) {
	record := append([]string{recordSQL(l.dialect, mg, time.Now().UTC())}, versionSQL(l.dialect, int(mg.Version), false)...)
	return m.run(ctx, l, mg, false, mg.up, record, prev)
}

// run runs one file of mg, its up file or (down) its down file, with the
// statements that record it, as apply describes. The database goes from
// version prev to mg's version, or (down) from mg's version to prev.
func (m *Migrator) run(ctx context.Context, l *locked, mg Migration, down bool, file []byte, record []string, prev int) (time.Duration, error) {
	ctx = context.WithoutCancel(ctx)
	name, from, to := mg.Up, prev, int(mg.Version)
	if down {
		name, from, to = mg.Down, int(mg.Version), prev
	}
	if l.dialect.Atomic {
		reached("before-file")
	}
	start := time.Now()
	err := l.s.Apply(ctx, file, record)
	d := time.Since(start)
	switch {
	case err == nil:
		reached("after-record")
		return d, nil
	case !errors.Is(err, dbdriver.ErrNotAtomic):
		return d, &FailedError{
			Migration: mg, Down: down, Line: errorLine(err, l.dialect), Engine: m.drv.Engine, Cause: err,
			Version: from, Lost: errors.Is(err, dbdriver.ErrOutcomeUnknown), Command: m.opts.Command,
		}
	}
	// Apply says at once why it cannot, having run nothing.
	why := strings.TrimPrefix(strings.TrimPrefix(err.Error(), dbdriver.ErrNotAtomic.Error()), ": ")
	if l.dialect.Atomic { // the engine could, this file cannot
		m.opts.Logger.Warn("migration runs outside a transaction with its record: if it is interrupted, the database is left dirty", "file", name, "reason", why)
	}
	// golang-migrate marks the version a file goes to.
	if err := execTx(ctx, l.s.DB(), versionSQL(l.dialect, to, true)); err != nil {
		return 0, fmt.Errorf("migrate: mark version %s dirty before %s: %w", FormatVersion(to), name, err)
	}
	reached("before-file")
	start = time.Now()
	if err := l.gm.Run(bytes.NewReader(file)); err != nil {
		return 0, &DirtyError{
			Version: to, Failed: &mg, Down: down, Line: errorLine(err, l.dialect),
			Engine: m.drv.Engine, Cause: err, Command: m.opts.Command, Previous: prev,
			stmts: sqlscan.Split(file, l.dialect.Syntax), why: why,
		}
	}
	d = time.Since(start)
	reached("after-file")
	if err := execTx(ctx, l.s.DB(), record); err != nil {
		done := map[bool]string{false: "applied", true: "reverted"}[down]
		return d, fmt.Errorf("migrate: %s ran but recording it failed; %s is %s and the database may still be marked dirty at version %s: run %s migrate force %s: %w",
			name, mg, done, FormatVersion(to), m.opts.Command, FormatVersion(to), err)
	}
	reached("after-record")
	return d, nil
}

// testHook, set only by this package's tests, is called at the named
// moments of a migration so that a test can kill the process there.
var testHook func(moment string)

func reached(moment string) {
	if testHook != nil {
		testHook(moment)
	}
}

// errorLine is the line of the migration file an engine error points at,
// 0 when the engine does not say.
func errorLine(err error, d dbdriver.Dialect) int {
	if de, ok := asDBError(err); ok && de.Line > 0 {
		return int(de.Line)
	}
	if d.ErrorLine != nil {
		return d.ErrorLine(err)
	}
	return 0
}
