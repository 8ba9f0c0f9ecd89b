package migrate

import (
	"context"
	"fmt"
	"time"
)

// Force marks the database clean at version (NilVersion: no migration
// applied) without running any migration. It is the way out of a dirty
// database ([*DirtyError] prints the exact call), and is safe only once the
// schema really is at that version: the file that left the database dirty
// took effect completely (force its version), not at all (force the one
// before), or its partial effect was completed or undone by hand; the
// [*DirtyError] lists the file's statements to check.
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
	var stmts []string
	for v := range st.history {
		if int(v) > version {
			stmts = append(stmts, unrecordSQL(l.dialect, v))
		}
	}
	if mg != nil {
		if _, recorded := st.history[mg.Version]; !recorded {
			stmts = append(stmts, recordSQL(l.dialect, *mg, time.Now().UTC()))
		}
	}
	stmts = append(stmts, versionSQL(l.dialect, version, false)...)
	if err := execTx(ctx, l.s.DB(), stmts); err != nil {
		return fmt.Errorf("migrate: force %s: %w", FormatVersion(version), err)
	}
	m.opts.Logger.Info("forced database version", "from", FormatVersion(st.version), "dirty", st.dirty, "to", FormatVersion(version))
	return nil
}
