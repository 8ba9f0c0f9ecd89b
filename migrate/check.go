package migrate

import (
	"context"
	"fmt"
)

// Check reports whether this binary can run on the database's schema: it
// returns a [*NewerSchemaError] when the database was migrated past the
// binary's newest migration by a newer release (Gitea's check), and nil
// otherwise, pending migrations included. Like [Migrator.Status] it takes
// no lock and writes nothing, so replicas can call it at boot while another
// one migrates.
func (m *Migrator) Check(ctx context.Context) error {
	s, err := m.connect(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	st, err := readState(ctx, s.DB(), s.Dialect())
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if st.version > m.latest() {
		return &NewerSchemaError{Version: st.version, Latest: m.latest()}
	}
	return nil
}
