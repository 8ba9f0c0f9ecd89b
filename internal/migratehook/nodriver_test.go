package migratehook_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

// An app with migrations whose binary imports no driver package is told
// which import to add, as a configuration error. This test binary links
// release but not package migrate.
func TestMigrateWithoutDriverNamesTheImport(t *testing.T) {
	t.Parallel()
	app := release.App[runtimeconfig.Base]{Name: "shop", Migrations: fstest.MapFS{"001_a.up.sql": {Data: []byte("SELECT 1;")}}}
	tests := []struct{ url, imp string }{
		{"sqlite://shop.db", "github.com/relkit/relkit/migrate/sqlite"},
		{"ecto://u:s3cret@db/shop", "github.com/relkit/relkit/migrate/postgres"},
		{"mysql://u@db/shop", "github.com/relkit/relkit/migrate/mysql"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := app.Run(context.Background(), []string{"migrate"}, []string{"DATABASE_URL=" + tt.url}, strings.NewReader(""), &out, &errb)
		want := "Error: invalid configuration:\n  DATABASE_URL: this binary links no database driver: add import _ \"" + tt.imp + "\" to the application's main package\nTry: shop config   (lists every variable, its default and where its value came from)\n"
		if code != 78 || errb.String() != want {
			t.Errorf("migrate with %s = %d\n%s\nwant 78\n%s", tt.url, code, errb.String(), want)
		}
	}
}
