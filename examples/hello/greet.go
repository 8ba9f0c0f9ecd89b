package main

import (
	"context"
	"fmt"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

// greet prints "Hello, NAME!"; NAME defaults to "world".
func greet(_ context.Context, call *release.Call[runtimeconfig.Base]) error {
	switch len(call.Args) {
	case 0:
		fmt.Fprintln(call.Stdout, "Hello, world!")
	case 1:
		fmt.Fprintf(call.Stdout, "Hello, %s!\n", call.Args[0])
	default:
		return release.Usagef("greet takes at most one name, got %d arguments", len(call.Args))
	}
	return nil
}
