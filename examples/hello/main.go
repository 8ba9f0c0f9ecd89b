// Command hello is the smallest relkit release: one route and one task.
//
//	go run ./examples/hello start        # serves http://localhost:4000/
//	go run ./examples/hello eval greet Ada
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

func main() { release.Main(app()) }

func app() release.App[runtimeconfig.Base] {
	return release.App[runtimeconfig.Base]{Name: "hello", Version: "0.1.0", Server: true, Handler: handler,
		Tasks: release.Tasks[runtimeconfig.Base]{"greet": {Summary: "print a greeting", Usage: "[name]", Run: greet}}}
}

func handler(ctx context.Context, _ *runtimeconfig.Base, _ *slog.Logger) (http.Handler, error) {
	hello := fmt.Sprintf("Hello from hello %s\n", release.InfoFrom(ctx).Version)
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, hello) }), nil
}
