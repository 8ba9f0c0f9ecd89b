// Command relkit assembles releases of relkit apps and writes their
// deployment files.
//
//	relkit build [-version V] [-target os/arch,...] [-o DIR] [-tar] [PKG]
//	relkit tar [-o DIR] [RELEASE_DIR...]
//	relkit gen docker|systemd|k8s [-o DIR] [PKG]
//
// Use it as a Go tool, pinned in go.mod:
//
//	go get -tool github.com/relkit/relkit/cmd/relkit
//	go tool relkit build -version 1.0.0 ./cmd/myapp
//
// or with go run, at the relkit version your go.mod requires:
//
//	go run github.com/relkit/relkit/cmd/relkit build ./cmd/myapp
//
// main only wires the process (arguments, environment, standard streams,
// working directory, signals) into run.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: cannot determine the working directory: %v\n", err)
		os.Exit(exitFailure)
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	code := run(ctx, dir, os.Args[1:], env, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
