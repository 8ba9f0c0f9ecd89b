// Command notes is the newcomer's app relkit's deployment tests build: it
// declares two variables of its own, both required, one of them secret, and
// migrates a PostgreSQL database.
package main

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"

	_ "github.com/relkit/relkit/migrate/postgres"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Config is what notes reads from the environment.
type Config struct {
	runtimeconfig.Base
	APIToken   string `env:"NOTES_API_TOKEN,required" secret:"true" desc:"token for the notes API"`
	AdminEmail string `env:"NOTES_ADMIN_EMAIL,required" desc:"where notes sends reports"`
}

func main() {
	sql, _ := fs.Sub(migrations, "migrations")
	release.Main(release.App[Config]{
		Name: "notes", Version: "1.4.0", Server: true, Migrations: sql,
		Defaults: map[string]string{"PORT": "4124"},
		Handler: func(ctx context.Context, cfg *Config, _ *slog.Logger) (http.Handler, error) {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprintf(w, "notes %s for %s\n", release.InfoFrom(ctx).Version, cfg.AdminEmail)
			}), nil
		},
	})
}
