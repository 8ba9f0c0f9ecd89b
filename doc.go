// Package relkit turns a Go web application into a release: one import in
// main.go and the binary gets the operational surface that Elixir's
// mix release gives a Phoenix application.
//
//	./myapp start            # run in the foreground (the HTTP server when enabled)
//	./myapp eval TASK        # run a one-off task in a fresh process
//	./myapp config           # every variable the app reads, secrets redacted
//	./myapp version -v       # name, version, VCS revision, Go version
//
// The packages:
//
//   - [github.com/relkit/relkit/release] composes everything into the command
//     line: [github.com/relkit/relkit/release.App] and
//     [github.com/relkit/relkit/release.Main].
//   - [github.com/relkit/relkit/runtimeconfig] loads configuration from the
//     environment at boot, never at build time.
//   - [github.com/relkit/relkit/server] serves HTTP and shuts down gracefully.
//   - [github.com/relkit/relkit/migrate] runs embedded SQL migrations.
//
// Each leaf package is usable on its own and never imports release.
//
// A complete application:
//
//	package main
//
//	import (
//		"context"
//		"fmt"
//		"log/slog"
//		"net/http"
//
//		"github.com/relkit/relkit/release"
//		"github.com/relkit/relkit/runtimeconfig"
//	)
//
//	type Config struct {
//		runtimeconfig.Base
//		Greeting string `env:"GREETING" envDefault:"Hello"`
//	}
//
//	func main() {
//		release.Main(release.App[Config]{
//			Name:   "hello",
//			Server: true,
//			Handler: func(ctx context.Context, cfg *Config, log *slog.Logger) (http.Handler, error) {
//				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//					fmt.Fprintln(w, cfg.Greeting)
//				}), nil
//			},
//		})
//	}
package relkit
