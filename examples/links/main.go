// Command links is a small URL shortener and relkit's full example: a JSON
// API, one HTML page, SQL migrations embedded in the binary and a task.
//
//	go run ./examples/links start              # http://localhost:4000/, SQLite file links.db
//	go run ./examples/links eval import FILE   # one URL (or CODE URL) per line
//	go run ./examples/links migrate status
//	go run ./examples/links rpc stats         # counters of the running system
//
// Its counters survive upgrades, downgrades and restarts of an assembled
// release (release.App.Handoff): bin/links upgrade 0.2.0 hands them over.
//
// It runs on SQLite with no setup and on PostgreSQL or MySQL/MariaDB when
// DATABASE_URL says so:
//
//	DATABASE_URL=postgres://postgres@127.0.0.1/links?sslmode=disable go run ./examples/links start
package main

import (
	"embed"
	"io/fs"
	"time"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"

	_ "github.com/relkit/relkit/migrate/mysql"
	_ "github.com/relkit/relkit/migrate/postgres"
	_ "github.com/relkit/relkit/migrate/sqlite"
)

// Config is what links reads from the environment.
type Config struct {
	runtimeconfig.Base
	// BaseURL prefixes short links in API answers. Default: the request's
	// own scheme and host.
	BaseURL string `env:"BASE_URL" desc:"public URL short links start with, e.g. https://l.example.com (default: from the request)"`
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

func main() { release.Main(app()) }

func app() release.App[Config] {
	migrations, _ := fs.Sub(migrationFiles, "migrations")
	svc := &service{}
	return release.App[Config]{
		Name:       "links",
		Version:    "0.1.0",
		Server:     true,
		Handler:    svc.handler,
		Checks:     []release.Check[Config]{{Name: "db", Timeout: 2 * time.Second, Run: svc.ready}},
		Migrations: migrations,
		Handoff:    svc.handoff(),
		// No setup: a SQLite file next to where it runs, migrated at start.
		Defaults: map[string]string{"DATABASE_URL": "sqlite://links.db", "MIGRATE_ON_START": "true"},
		Tasks: release.Tasks[Config]{
			"import": {Summary: "import links from FILE (- for stdin): one URL, or CODE URL, per line", Usage: "FILE", Run: importLinks},
			"stats":  {Summary: "print the running system's counters since it started (carried across upgrades)", Via: release.ViaRPC, Run: svc.stats},
		},
	}
}
