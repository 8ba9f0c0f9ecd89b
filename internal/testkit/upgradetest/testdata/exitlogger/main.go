// Command exitlogger dies from app code right after logging, for the test
// that no log line is lost in a crash:
//
//	GET /exit?n=N   logs N info lines from 8 goroutines, then os.Exit(1)
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

func main() {
	release.Main(release.App[runtimeconfig.Base]{Name: "exitlogger", Server: true,
		Handler: func(ctx context.Context, cfg *runtimeconfig.Base, log *slog.Logger) (http.Handler, error) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte("exitlogger\n"))
			})
			mux.HandleFunc("GET /exit", func(w http.ResponseWriter, r *http.Request) {
				n, _ := strconv.Atoi(r.URL.Query().Get("n"))
				var wg sync.WaitGroup
				for g := range 8 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := g; i < n; i += 8 {
							log.Info("before the crash", "line", i)
						}
					}()
				}
				wg.Wait()
				os.Exit(1)
			})
			return mux, nil
		}})
}
