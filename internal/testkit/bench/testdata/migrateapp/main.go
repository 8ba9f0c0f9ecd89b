// Command migrateapp is the release migrate.sh measures: relkit's `migrate`
// command with migrations embedded in the binary, as an application has
// them. Built with -tags bench it embeds ./migrations, which migrate.sh
// generates; without the tag it reads the directory named by
// BENCH_MIGRATIONS.
package main

import (
	"io/fs"
	"os"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"

	_ "github.com/relkit/relkit/migrate/postgres"
	_ "github.com/relkit/relkit/migrate/sqlite"
)

// migrations is set by embed.go when built with -tags bench.
var migrations fs.FS

func main() {
	fsys := migrations
	if fsys == nil {
		fsys = os.DirFS(os.Getenv("BENCH_MIGRATIONS"))
	}
	release.Main(release.App[runtimeconfig.Base]{Name: "migrateapp", Migrations: fsys})
}
