// Command notready is a build of a release named hello whose readiness
// check never passes and whose handler answers 500, as an app whose
// database is down would. The safety tests upgrade a serving hello 1.0.0
// to it: while the upgrade waits for it to be ready, it must take no
// request.
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

func main() {
	release.Main(release.App[runtimeconfig.Base]{Name: "hello", Server: true,
		Handler: func(ctx context.Context, _ *runtimeconfig.Base, log *slog.Logger) (http.Handler, error) {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "not ready release answered", http.StatusInternalServerError)
			}), nil
		},
		Checks: []release.Check[runtimeconfig.Base]{{Name: "database", Run: func(context.Context, *runtimeconfig.Base) error {
			return errors.New("connection refused")
		}}},
	})
}
