package migrate_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/relkit/relkit/migrate"
)

// cancelAfter is a slog handler that cancels a context when a record with
// the given message is logged: a signal arriving mid-run, deterministically.
type cancelAfter struct {
	slog.Handler
	msg    string
	cancel context.CancelFunc
}

func (h cancelAfter) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.cancel()
	}
	return h.Handler.Handle(ctx, r)
}

func TestInterruptedRunIsNotSuccess(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, url string) {
		var log strings.Builder
		ctx, cancel := context.WithCancel(ctxT(t))
		logger := slog.New(cancelAfter{textLogger(&log).Handler(), "applied migration", cancel})
		m := newMigrator(t, items(), url, migrate.Options{Logger: logger})
		res, err := m.Up(ctx)
		var ie *migrate.InterruptedError
		if !errors.As(err, &ie) || !errors.Is(err, migrate.ErrInterrupted) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Up cancelled after the first migration = %v, want an *InterruptedError", err)
		}
		if len(ie.Done) != 1 || len(ie.Remaining) != 2 || ie.Version != 1 || versions(res) != "1" {
			t.Errorf("InterruptedError = %d done, %d remaining, version %d; want 1, 2, 1", len(ie.Done), len(ie.Remaining), ie.Version)
		}
		want := "migrate: interrupted (context canceled) after 1 of 3 migrations; the database is at version 1 and clean. Run the command again to do the remaining 2"
		if err.Error() != want {
			t.Errorf("message:\n got %s\nwant %s", err, want)
		}
		if strings.Contains(log.String(), "migrations applied") {
			t.Errorf("an interrupted run logged success:\n%s", log.String())
		}
		st, err := m.Status(ctxT(t))
		if err != nil || st.Version != 1 || st.Dirty {
			t.Errorf("Status = %d dirty=%v (%v), want 1 clean", st.Version, st.Dirty, err)
		}

		// Cancelled before it starts: nothing runs, and it says so.
		if _, err := m.Up(ctx); !errors.Is(err, migrate.ErrInterrupted) {
			t.Errorf("Up with a cancelled context = %v, want ErrInterrupted", err)
		}
		res, err = m.Up(ctxT(t))
		if err != nil || versions(res) != "2,3" {
			t.Errorf("Up after the interruption ran %q (%v), want 2,3", versions(res), err)
		}
	})
}
