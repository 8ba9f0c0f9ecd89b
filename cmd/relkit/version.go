package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print relkit's version and the Go version it was built with",
		flags: func(*flag.FlagSet) func(context.Context, *osEnv, []string) error {
			return func(_ context.Context, e *osEnv, args []string) error {
				if err := noArgs("version", args); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "relkit %s %s %s/%s\n", relkitVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
				return nil
			}
		},
	}
}

// relkitVersion is the version of the relkit module this binary was built
// from: the main module under go run in the relkit repository, a
// dependency under go tool or go run from an app's module.
func relkitVersion() string {
	const module = "github.com/relkit/relkit"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	if bi.Main.Path == module && bi.Main.Version != "" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == module {
			if d.Replace != nil {
				return d.Version + " => " + d.Replace.Path
			}
			return d.Version
		}
	}
	return "(devel)"
}
