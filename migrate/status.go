package migrate

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/relkit/relkit/migrate/internal/dbdriver"
)

// State is a migration's state in [Status].
type State string

// The states of a migration.
const (
	// Applied: recorded as applied, file unchanged.
	Applied State = "applied"
	// Pending: newer than the database's version; Up applies it.
	Pending State = "pending"
	// Edited: applied, but the file changed since; Up refuses to run.
	Edited State = "edited"
	// OutOfOrder: older than the database's version but never applied; Up
	// refuses to run.
	OutOfOrder State = "out of order"
	// Missing: recorded as applied but the binary has no file for it.
	Missing State = "missing"
	// Dirty: the migration whose file was started and whose end was never
	// recorded: the database is marked dirty (see [DirtyError]).
	Dirty State = "dirty"
)

// Status is the state of every migration the binary or the database knows.
type Status struct {
	// Version is the database's version, NilVersion before any migration.
	Version int
	// Dirty is true when the database is marked dirty (see [DirtyError]).
	Dirty bool
	// Latest is the binary's newest version, NilVersion without migrations.
	Latest int
	// Migrations are sorted by version.
	Migrations []MigrationStatus

	dirty *DirtyError
}

// Err returns a [*DirtyError], with its recovery advice, when the database
// is dirty, and nil otherwise: what `migrate status` exits non-zero on.
func (s Status) Err() error {
	if s.dirty == nil {
		return nil
	}
	return s.dirty
}

// MigrationStatus is one line of [Status].
type MigrationStatus struct {
	Version uint
	Name    string
	State   State
	// AppliedAt is when relkit recorded the migration; zero when pending,
	// or when it was applied before relkit tracked it.
	AppliedAt time.Time
}

// Status reads the database's version and history and classifies every
// migration. It takes no lock and writes nothing, so it works while another
// process migrates, and with a read-only database user.
func (m *Migrator) Status(ctx context.Context) (Status, error) {
	s, err := m.connect(ctx)
	if err != nil {
		return Status{}, err
	}
	defer s.Close()
	st, err := readState(ctx, s.DB(), s.Dialect())
	if err != nil {
		return Status{}, fmt.Errorf("migrate: %w", err)
	}
	return m.status(st, s.Dialect()), nil
}

func (m *Migrator) status(st state, d dbdriver.Dialect) Status {
	out := Status{Version: st.version, Dirty: st.dirty, Latest: m.latest()}
	var failed *Migration
	if st.dirty {
		out.dirty = m.dirtyError(st, d)
		failed = out.dirty.Failed
	}
	p := m.plan(st)
	states := map[uint]State{}
	for _, mg := range p.applied {
		states[mg.Version] = Applied
	}
	for _, mg := range p.pending {
		states[mg.Version] = Pending
	}
	for _, mg := range p.edited {
		states[mg.Version] = Edited
	}
	for _, mg := range p.outOfOrder {
		states[mg.Version] = OutOfOrder
	}
	if failed != nil {
		states[failed.Version] = Dirty
	}
	for _, mg := range m.migrations {
		ms := MigrationStatus{Version: mg.Version, Name: mg.Name, State: states[mg.Version]}
		if r, ok := st.history[mg.Version]; ok && ms.State != Pending && ms.State != OutOfOrder {
			ms.AppliedAt = r.AppliedAt
		}
		out.Migrations = append(out.Migrations, ms)
	}
	for _, r := range p.missing {
		out.Migrations = append(out.Migrations, MigrationStatus{Version: r.Version, Name: r.Name, State: Missing, AppliedAt: r.AppliedAt})
	}
	sort.Slice(out.Migrations, func(i, j int) bool { return out.Migrations[i].Version < out.Migrations[j].Version })
	return out
}

// Pending returns the migrations Up would apply.
func (s Status) Pending() []MigrationStatus {
	var p []MigrationStatus
	for _, m := range s.Migrations {
		if m.State == Pending {
			p = append(p, m)
		}
	}
	return p
}

// WriteTable writes s as a text table, one migration a line, followed by
// the database's version:
//
//	VERSION  NAME          STATE    APPLIED AT
//	1        create_links  applied  2025-01-02 15:04:05 UTC
//	2        add_clicks    pending
//	database version: 1 (clean), binary's latest: 2, pending: 1
func (s Status) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tSTATE\tAPPLIED AT")
	for _, m := range s.Migrations {
		at := ""
		if !m.AppliedAt.IsZero() {
			at = m.AppliedAt.UTC().Format("2006-01-02 15:04:05 MST")
		}
		if at == "" {
			fmt.Fprintf(tw, "%d\t%s\t%s\n", m.Version, m.Name, m.State)
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", m.Version, m.Name, m.State, at)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	clean := "clean"
	if s.Dirty {
		clean = "DIRTY"
	}
	_, err := fmt.Fprintf(w, "database version: %s (%s), binary's latest: %s, pending: %d\n",
		FormatVersion(s.Version), clean, FormatVersion(s.Latest), len(s.Pending()))
	return err
}
