// Command latecrash is examples/hello's route in a release named hello that
// boots, serves and crashes 1.5 seconds later: the upgrade tests check that
// probation switches back to the previous release.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

func main() {
	release.Main(release.App[runtimeconfig.Base]{Name: "hello", Server: true,
		Handler: func(ctx context.Context, _ *runtimeconfig.Base, log *slog.Logger) (http.Handler, error) {
			hello := fmt.Sprintf("Hello from hello %s\n", release.InfoFrom(ctx).Version)
			time.AfterFunc(1500*time.Millisecond, func() {
				log.Error("crashing on purpose")
				os.Exit(3)
			})
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, hello) }), nil
		}})
}
