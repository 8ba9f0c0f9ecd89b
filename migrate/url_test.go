package migrate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/relkit/relkit/migrate"
)

func TestURLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, want string
	}{
		{"no scheme", "localhost/db",
			"migrate: database URL has no scheme: want postgres://, postgresql://, ecto://, mysql://, sqlite:// or sqlite3://"},
		{"unknown scheme", "mongodb://u:secret@host/db",
			`migrate: database URL scheme "mongodb" is not supported: want postgres://, postgresql://, ecto:// (import _ "github.com/relkit/relkit/migrate/postgres"), mysql:// (import _ "github.com/relkit/relkit/migrate/mysql"), sqlite:// or sqlite3:// (import _ "github.com/relkit/relkit/migrate/sqlite")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := migrate.New(items(), tt.url, migrate.Options{})
			if !errors.Is(err, migrate.ErrUnsupportedURL) || err.Error() != tt.want {
				t.Errorf("New(%s):\n got %v\nwant %s", tt.name, err, tt.want)
			}
			if _, err := migrate.OpenDB(context.Background(), tt.url); err == nil || err.Error() != tt.want {
				t.Errorf("OpenDB(%s) = %v, want the same error", tt.name, err)
			}
		})
	}
}

// A URL that does not parse is reported without the URL, which would show
// the password.
func TestURLErrorsHideThePassword(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"postgres://user:s3cret@host:notaport/db",
		"ecto://user:s3cret@host:5432/db?x-unknown=1",
		"mysql://user:s3cret@host:notaport/db",
		"mysql://user:s3cret@tcp(host:3306/db",
		"sqlite://?x-bogus=s3cret",
	} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			t.Parallel()
			m, err := migrate.New(items(), url, migrate.Options{})
			if err != nil {
				t.Fatalf("New checks only the scheme, got %v", err)
			}
			for name, err := range map[string]error{
				"Up":     func() error { _, err := m.Up(ctxT(t)); return err }(),
				"Status": func() error { _, err := m.Status(ctxT(t)); return err }(),
				"OpenDB": func() error { _, err := migrate.OpenDB(ctxT(t), url); return err }(),
			} {
				if !errors.Is(err, migrate.ErrUnsupportedURL) {
					t.Errorf("%s = %v, want an ErrUnsupportedURL", name, err)
				}
				if err != nil && strings.Contains(err.Error(), "s3cret") {
					t.Errorf("%s error shows the password: %v", name, err)
				}
			}
		})
	}
}

// ecto:// is PostgreSQL, as in Phoenix's DATABASE_URL.
func TestEctoSchemeIsPostgres(t *testing.T) {
	t.Parallel()
	m, err := migrate.New(items(), "ecto://u@h/db", migrate.Options{})
	if err != nil || m.Engine() != "PostgreSQL" {
		t.Errorf("ecto:// engine = %v (%v), want PostgreSQL", m, err)
	}
}
