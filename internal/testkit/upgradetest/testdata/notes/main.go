// Command notes is a release with migrations, a required secret
// (API_TOKEN) and only the SQLite driver linked. The migration commands
// must run without API_TOKEN, since they never use it, and config must
// reject every DATABASE_URL that start and migrate reject.
package main

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/relkit/relkit/migrate"
	_ "github.com/relkit/relkit/migrate/sqlite"
	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

// Config is what notes reads.
type Config struct {
	runtimeconfig.Base
	APIToken string `env:"API_TOKEN,required" secret:"true" desc:"token of the notes API"`
}

//go:embed migrations/*.sql
var files embed.FS

func main() {
	migrations, _ := fs.Sub(files, "migrations")
	release.Main(release.App[Config]{Name: "notes", Server: true, Migrations: migrations,
		Handler: func(ctx context.Context, cfg *Config, log *slog.Logger) (http.Handler, error) {
			db, err := migrate.OpenDB(ctx, cfg.DatabaseURL)
			if err != nil {
				return nil, err
			}
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var n int
				if err := db.QueryRowContext(r.Context(), "SELECT COUNT(*) FROM notes").Scan(&n); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				fmt.Fprintf(w, "notes: %d\n", n)
			}), nil
		},
	})
}
