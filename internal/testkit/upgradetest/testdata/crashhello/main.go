// Command crashhello is a broken build of examples/hello: a release named
// hello that crashes at boot, before it serves. The upgrade tests install
// it as hello 2.0.0 over a running hello 1.0.0.
package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

func main() {
	release.Main(release.App[runtimeconfig.Base]{Name: "hello", Server: true,
		Handler: func(ctx context.Context, _ *runtimeconfig.Base, log *slog.Logger) (http.Handler, error) {
			log.Error("loading the routes")
			var routes map[string]http.Handler
			routes["/"] = http.NotFoundHandler() // nil map: crashes
			return nil, nil
		}})
}
