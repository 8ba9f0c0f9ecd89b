// Command slowhello is examples/hello's route in a release named hello that
// takes 3 seconds to boot: the upgrade tests interrupt the upgrade command
// while it boots.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

func main() {
	release.Main(release.App[runtimeconfig.Base]{Name: "hello", Server: true,
		Handler: func(ctx context.Context, _ *runtimeconfig.Base, log *slog.Logger) (http.Handler, error) {
			hello := fmt.Sprintf("Hello from hello %s\n", release.InfoFrom(ctx).Version)
			log.Info("warming up for 3s")
			time.Sleep(3 * time.Second)
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, hello) }), nil
		}})
}
