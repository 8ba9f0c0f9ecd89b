package main

import (
	"context"
	"flag"
)

func genCommand() *command {
	return &command{
		name:     "gen",
		synopsis: "docker|systemd|k8s [flags] [PKG]",
		summary:  "write a Dockerfile, systemd units or Kubernetes manifests for the app",
		flags: func(fs *flag.FlagSet) func(context.Context, *osEnv, []string) error {
			return func(ctx context.Context, e *osEnv, args []string) error {
				return usagef("", "gen is not available yet")
			}
		},
	}
}
