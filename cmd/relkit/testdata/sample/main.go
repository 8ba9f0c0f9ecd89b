// Command sample is the app relkit's tests build into releases: a server,
// embedded migrations, overlays, and tasks that report where the running
// release found its root.
package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/relkit/relkit/internal/layout"
	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

//go:embed migrations/*.sql
var migrations embed.FS

func main() {
	sql, _ := fs.Sub(migrations, "migrations")
	release.Main(release.App[runtimeconfig.Base]{
		Name: "sample", Version: "0.3.0", Server: true, Migrations: sql,
		Defaults: map[string]string{"PORT": "4123"},
		Handler: func(ctx context.Context, _ *runtimeconfig.Base, _ *slog.Logger) (http.Handler, error) {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprintf(w, "sample %s\n", release.InfoFrom(ctx).Version)
			}), nil
		},
		Tasks: release.Tasks[runtimeconfig.Base]{
			"root": {Summary: "print the release root", Run: func(_ context.Context, c *release.Call[runtimeconfig.Base]) error {
				l, err := resolve()
				if err != nil {
					return err
				}
				fmt.Fprintln(c.Stdout, l.Root, l.Assembled)
				return nil
			}},
			"motd": {Summary: "print etc/motd.txt from the release root", Run: func(_ context.Context, c *release.Call[runtimeconfig.Base]) error {
				l, err := resolve()
				if err != nil {
					return err
				}
				b, err := os.ReadFile(filepath.Join(l.Root, "etc", "motd.txt"))
				if err != nil {
					return err
				}
				_, err = c.Stdout.Write(b)
				return err
			}},
		},
	})
}

func resolve() (layout.Layout, error) {
	exe, err := os.Executable()
	if err != nil {
		return layout.Layout{}, errors.New("cannot find the running binary")
	}
	cwd, _ := os.Getwd()
	return layout.Resolve(exe, cwd, map[string]string{})
}
