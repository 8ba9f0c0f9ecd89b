// Command envprobe shows the environment its process really runs with,
// for the tests of environment files:
//
//	GET /level        the LOG_LEVEL the configuration was loaded with
//	GET /getenv?k=K   os.Getenv(K), as a library reading the environment sees it
//	GET /memlimit     the Go runtime's memory limit (GOMEMLIMIT), in bytes
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

func main() {
	release.Main(release.App[runtimeconfig.Base]{Name: "envprobe", Server: true,
		Handler: func(ctx context.Context, cfg *runtimeconfig.Base, _ *slog.Logger) (http.Handler, error) {
			version := release.InfoFrom(ctx).Version
			mux := http.NewServeMux()
			mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "envprobe %s\n", version)
			})
			mux.HandleFunc("GET /level", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintln(w, cfg.LogLevel.Level())
			})
			mux.HandleFunc("GET /getenv", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintln(w, os.Getenv(r.URL.Query().Get("k")))
			})
			mux.HandleFunc("GET /memlimit", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintln(w, debug.SetMemoryLimit(-1))
			})
			return mux, nil
		}})
}
