// Package nodrivers tests package migrate in a binary that imports no
// driver package, as an application that forgot the import is.
package nodrivers

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/relkit/relkit/migrate"
)

func TestMissingDriverNamesTheImport(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"postgres://u@h/db", "migrate: database URL scheme \"postgres\" needs a driver this binary does not include: add\n\timport _ \"github.com/relkit/relkit/migrate/postgres\"\nto the application's main package"},
		{"ECTO://u@h/db", "migrate: database URL scheme \"ecto\" needs a driver this binary does not include: add\n\timport _ \"github.com/relkit/relkit/migrate/postgres\"\nto the application's main package"},
		{"mysql://u@h/db", "migrate: database URL scheme \"mysql\" needs a driver this binary does not include: add\n\timport _ \"github.com/relkit/relkit/migrate/mysql\"\nto the application's main package"},
		{"sqlite3://app.db", "migrate: database URL scheme \"sqlite3\" needs a driver this binary does not include: add\n\timport _ \"github.com/relkit/relkit/migrate/sqlite\"\nto the application's main package"},
	}
	for _, tt := range tests {
		_, err := migrate.New(fstest.MapFS{}, tt.url, migrate.Options{})
		var ue *migrate.URLError
		if !errors.As(err, &ue) || err.Error() != tt.want {
			t.Errorf("New(%s):\n got %v\nwant %s", tt.url, err, tt.want)
		}
		if _, err := migrate.OpenDB(context.Background(), tt.url); err == nil || err.Error() != tt.want {
			t.Errorf("OpenDB(%s) = %v, want the same error", tt.url, err)
		}
	}
}
