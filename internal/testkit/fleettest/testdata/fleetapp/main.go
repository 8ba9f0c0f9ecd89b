// Command fleetapp is the release the fleet test deploys to its hosts with
// the playbook `relkit gen ansible` writes. It keeps notes in PostgreSQL:
// GET /notes answers how many there are and who wrote the last one, POST
// /notes adds one, and every answer names the release that gave it.
//
// Builds: the default one (1.0.0) has migration 001; with -tags v2 (2.0.0)
// migration 002 adds the column author, which its handler reads and writes,
// so 2.0.0 fails every request on a database that was not migrated; with
// -tags v2,notready its readiness check never passes, as with a database
// it cannot reach; FLEETAPP_NEVER_READY=true does the same to any build.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/relkit/relkit/migrate"
	_ "github.com/relkit/relkit/migrate/postgres"
	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

func main() {
	migrations, _ := fs.Sub(migrationFiles, "migrations")
	var db *sql.DB
	release.Main(release.App[runtimeconfig.Base]{
		Name:       "fleetapp",
		Version:    "1.0.0",
		Server:     true,
		Migrations: migrations,
		Defaults:   map[string]string{"MIGRATE_ON_START": "false"},
		Handler: func(ctx context.Context, cfg *runtimeconfig.Base, log *slog.Logger) (http.Handler, error) {
			var err error
			if db, err = migrate.OpenDB(ctx, cfg.DatabaseURL); err != nil {
				return nil, err
			}
			version := release.InfoFrom(ctx).Version
			mux := http.NewServeMux()
			mux.HandleFunc("GET /notes", func(w http.ResponseWriter, r *http.Request) {
				n, last, err := read(r.Context(), db)
				if err != nil {
					http.Error(w, version+": "+err.Error(), http.StatusInternalServerError)
					return
				}
				fmt.Fprintf(w, "%s notes=%d last=%q\n", version, n, last)
			})
			mux.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) {
				if err := write(r.Context(), db, version); err != nil {
					http.Error(w, version+": "+err.Error(), http.StatusInternalServerError)
					return
				}
				fmt.Fprintf(w, "%s ok\n", version)
			})
			return mux, nil
		},
		Checks: []release.Check[runtimeconfig.Base]{{Name: "database", Timeout: 2 * time.Second, Run: func(ctx context.Context, _ *runtimeconfig.Base) error {
			if db == nil {
				return errors.New("no database yet")
			}
			if err := db.PingContext(ctx); err != nil {
				return err
			}
			// Set in one host's releases/VSN/env: that host's switch fails.
			if os.Getenv("FLEETAPP_NEVER_READY") == "true" {
				return errors.New("FLEETAPP_NEVER_READY=true")
			}
			return readiness()
		}}},
	})
}
