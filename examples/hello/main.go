// Command hello is the smallest relkit release: one route, one page with a
// digested stylesheet, and one task.
//
//	go run ./examples/hello start        # serves http://localhost:4000/
//	go run ./examples/hello eval greet Ada
//	go run ./examples/hello health       # 0 while the server above is healthy
package main

import (
	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

func main() { release.Main(app()) }

func app() release.App[runtimeconfig.Base] {
	return release.App[runtimeconfig.Base]{Name: "hello", Version: "0.1.0", Server: true, Handler: handler,
		Tasks: release.Tasks[runtimeconfig.Base]{"greet": {Summary: "print a greeting", Usage: "[name]", Run: greet}}}
}
