package migrate

import (
	"context"
	"fmt"
	"time"
)

// Force marks the database clean at version (NilVersion: no migration
// applied) without running any migration. It is the way out of a dirty
// database ([*DirtyError] prints the exact call), and is safe only once the
// schema really is at that version: the failed file was rolled back by the
// engine, or its half-applied statements were undone or completed by hand.
//
// Force also makes relkit's history agree: records newer than version are
// dropped, and version itself is recorded with its file's checksum if it
// was not. version must be NilVersion or one of the binary's migrations
// ([ErrUnknownVersion]).
func (m *Migrator) Force(ctx context.Context, version int) error {
	mg := m.find(version)
	if version != NilVersion && mg == nil {
		return fmt.Errorf("%w: force %d: the binary has no migration %d (use one of its versions, or none)", ErrUnknownVersion, version, version)
	}
	l, st, err := m.lockState(ctx)
	if err != nil {
		return err
	}
	defer m.unlock(ctx, l)
	if err := m.prepare(ctx, l); err != nil {
		return err
	}
	tx, err := l.s.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: force %s: %w", FormatVersion(version), err)
	}
	defer tx.Rollback()
	for v := range st.history {
		if int(v) > version {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+l.dialect.HistoryTable+" WHERE version = "+l.dialect.Placeholder(1), int64(v)); err != nil {
				return fmt.Errorf("migrate: force %s: %w", FormatVersion(version), err)
			}
		}
	}
	if mg != nil {
		if _, recorded := st.history[mg.Version]; !recorded {
			if err := insertRecord(ctx, tx, l.dialect, *mg, time.Now().UTC()); err != nil {
				return err
			}
		}
	}
	if err := setVersion(ctx, tx, l.dialect, version); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: force %s: %w", FormatVersion(version), err)
	}
	m.opts.Logger.Info("forced database version", "from", FormatVersion(st.version), "dirty", st.dirty, "to", FormatVersion(version))
	return nil
}
