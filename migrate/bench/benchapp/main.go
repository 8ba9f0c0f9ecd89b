// Command benchapp is a release whose migrations are read from the
// directory named by BENCH_MIGRATIONS, so that compare.sh can run relkit's
// `migrate` command and golang-migrate's CLI on the same files.
package main

import (
	"os"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"

	_ "github.com/relkit/relkit/migrate/postgres"
	_ "github.com/relkit/relkit/migrate/sqlite"
)

func main() {
	release.Main(release.App[runtimeconfig.Base]{Name: "benchapp", Migrations: os.DirFS(os.Getenv("BENCH_MIGRATIONS"))})
}
