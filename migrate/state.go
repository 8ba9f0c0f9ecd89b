package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/relkit/relkit/migrate/internal/dbdriver"
	"github.com/relkit/relkit/migrate/internal/sqlscan"
)

// record is one row of relkit's history table: an applied migration.
type record struct {
	Version   uint
	Name      string
	Checksum  string
	AppliedAt time.Time
}

// state is what the database says, read without the lock.
type state struct {
	version    int
	dirty      bool
	history    map[uint]record
	hasVersion bool // schema_migrations exists
	hasHistory bool // relkit_migrations exists
}

// readState reads golang-migrate's version and relkit's history. Missing
// tables read as an empty database.
func readState(ctx context.Context, q dbdriver.Querier, d dbdriver.Dialect) (state, error) {
	st := state{version: NilVersion, history: map[uint]record{}}
	rows, err := q.QueryContext(ctx, d.Tables)
	if err != nil {
		return st, fmt.Errorf("look for the %s and %s tables: %w", versionTable, historyTable, err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return st, fmt.Errorf("look for the %s and %s tables: %w", versionTable, historyTable, err)
		}
		st.hasVersion = st.hasVersion || name == versionTable
		st.hasHistory = st.hasHistory || name == historyTable
	}
	if err := rows.Close(); err != nil {
		return st, fmt.Errorf("look for the %s and %s tables: %w", versionTable, historyTable, err)
	}
	if st.hasVersion {
		var v int64
		var dirty bool
		err := q.QueryRowContext(ctx, "SELECT version, dirty FROM "+d.VersionTable+" LIMIT 1").Scan(&v, &dirty)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return st, fmt.Errorf("read the database version: %w", err)
		default:
			st.version, st.dirty = int(v), dirty
		}
	}
	if !st.hasHistory {
		return st, nil
	}
	rows, err = q.QueryContext(ctx, "SELECT version, name, checksum, applied_at FROM "+d.HistoryTable)
	if err != nil {
		return st, fmt.Errorf("read %s: %w", historyTable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r record
		var v int64
		if err := rows.Scan(&v, &r.Name, &r.Checksum, &r.AppliedAt); err != nil {
			return st, fmt.Errorf("read %s: %w", historyTable, err)
		}
		r.Version = uint(v)
		st.history[r.Version] = r
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("read %s: %w", historyTable, err)
	}
	return st, nil
}

// Table names, unqualified: golang-migrate's and relkit's.
const (
	versionTable = "schema_migrations"
	historyTable = "relkit_migrations"
)

// plan classifies the binary's migrations against a clean database state.
type plan struct {
	// applied are the binary's migrations the database has, in order,
	// including adopt.
	applied []Migration
	// adopt were applied without relkit recording them (by golang-migrate,
	// or before relkit): their checksums get recorded now.
	adopt []Migration
	// edited are applied migrations whose up file changed.
	edited []Migration
	// outOfOrder are older than the database's version but never applied.
	outOfOrder []Migration
	// pending are newer than the database's version.
	pending []Migration
	// missing are recorded as applied but have no file in the binary.
	missing []record
	// stale are recorded but newer than the database's version: a tool
	// that does not know relkit's table rolled them back.
	stale []record
}

func (m *Migrator) plan(st state) plan {
	var p plan
	maxRecorded := NilVersion
	for v := range st.history {
		if int(v) <= st.version && int(v) > maxRecorded {
			maxRecorded = int(v)
		}
	}
	known := map[uint]bool{}
	for _, mg := range m.migrations {
		known[mg.Version] = true
		r, recorded := st.history[mg.Version]
		switch {
		case int(mg.Version) > st.version:
			p.pending = append(p.pending, mg)
		case recorded:
			p.applied = append(p.applied, mg)
			if r.Checksum != mg.UpSHA256 {
				p.edited = append(p.edited, mg)
			}
		case int(mg.Version) < maxRecorded:
			p.outOfOrder = append(p.outOfOrder, mg)
		default:
			p.applied = append(p.applied, mg)
			p.adopt = append(p.adopt, mg)
		}
	}
	for v, r := range st.history {
		switch {
		case int(v) > st.version:
			p.stale = append(p.stale, r)
		case !known[v]:
			p.missing = append(p.missing, r)
		}
	}
	sort.Slice(p.stale, func(i, j int) bool { return p.stale[i].Version < p.stale[j].Version })
	sort.Slice(p.missing, func(i, j int) bool { return p.missing[i].Version < p.missing[j].Version })
	return p
}

// dirtyError describes a dirty state found at the start of a run. A
// recorded migration newer than the dirty version means its down file was
// running (a rollback marks the version it goes to); otherwise the up file
// of the dirty version was.
func (m *Migrator) dirtyError(st state, d dbdriver.Dialect) *DirtyError {
	e := m.dirtyMigration(st)
	if e.Failed != nil {
		file := e.Failed.up
		if e.Down {
			file, _ = readDown(m.src, *e.Failed) // no statements to list if it cannot be read
		}
		e.stmts = sqlscan.Split(file, d.Syntax)
	}
	return e
}

// dirtyMigration finds the migration a dirty state is about.
func (m *Migrator) dirtyMigration(st state) *DirtyError {
	e := &DirtyError{Version: st.version, Engine: m.drv.Engine, Command: m.opts.Command}
	down := -1
	for v := range st.history {
		if int(v) > st.version && (down == -1 || int(v) < down) {
			down = int(v)
		}
	}
	if down != -1 {
		if f := m.find(down); f != nil {
			e.Failed, e.Down, e.Previous = f, true, st.version
			return e
		}
	}
	if f := m.find(st.version); f != nil {
		e.Failed, e.Previous = f, m.previous(f.Version)
	}
	return e
}

// integrity returns the errors a plan holds that block a run.
func (m *Migrator) integrity(st state, p plan) error {
	if st.version > m.latest() {
		return &NewerSchemaError{Version: st.version, Latest: m.latest()}
	}
	if len(p.edited) > 0 || len(p.outOfOrder) > 0 {
		return &HistoryError{Edited: p.edited, OutOfOrder: p.outOfOrder, Version: st.version, Command: m.opts.Command}
	}
	return nil
}

// reconcile records adopted migrations and drops stale records, under the
// lock, and logs migrations that are applied but missing from the binary.
func (m *Migrator) reconcile(ctx context.Context, l *locked, p plan) error {
	log := m.opts.Logger
	for _, r := range p.missing {
		log.Warn("applied migration has no file in this binary; it cannot be rolled back with it", "version", r.Version, "name", r.Name)
	}
	if len(p.adopt) == 0 && len(p.stale) == 0 {
		return nil
	}
	if err := m.prepare(ctx, l); err != nil {
		return err
	}
	var stmts []string
	for _, r := range p.stale {
		stmts = append(stmts, unrecordSQL(l.dialect, r.Version))
	}
	now := time.Now().UTC()
	for _, mg := range p.adopt {
		stmts = append(stmts, recordSQL(l.dialect, mg, now))
	}
	if err := execTx(ctx, l.s.DB(), stmts); err != nil {
		return fmt.Errorf("migrate: record checksums: %w", err)
	}
	for _, r := range p.stale {
		log.Warn("dropped the record of a migration rolled back by another tool", "version", r.Version, "name", r.Name)
	}
	if len(p.adopt) > 0 {
		log.Info("recorded the checksums of migrations applied before relkit tracked them", "count", len(p.adopt))
	}
	return nil
}

// recordSQL records mg as applied at at, with its up file's checksum.
func recordSQL(d dbdriver.Dialect, mg Migration, at time.Time) string {
	return "INSERT INTO " + d.HistoryTable + " (version, name, checksum, applied_at) VALUES (" +
		d.Literal(mg.Version) + ", " + d.Literal(mg.Name) + ", " + d.Literal(mg.UpSHA256) + ", " + d.Literal(at) + ")"
}

// unrecordSQL drops the record of version v.
func unrecordSQL(d dbdriver.Dialect, v uint) string {
	return "DELETE FROM " + d.HistoryTable + " WHERE version = " + d.Literal(v)
}

// versionSQL sets golang-migrate's version as its SetVersion does: the
// table holds one row, none for a clean NilVersion.
func versionSQL(d dbdriver.Dialect, v int, dirty bool) []string {
	stmts := []string{"DELETE FROM " + d.VersionTable}
	if v != NilVersion || dirty {
		stmts = append(stmts, "INSERT INTO "+d.VersionTable+" (version, dirty) VALUES ("+d.Literal(v)+", "+d.Literal(dirty)+")")
	}
	return stmts
}

// execTx runs stmts in one transaction.
func execTx(ctx context.Context, q dbdriver.Querier, stmts []string) error {
	tx, err := q.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return tx.Commit()
}
