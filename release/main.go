package release

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Main runs app with the process's arguments, environment and standard
// streams, and exits with the command's exit code. The first SIGINT or
// SIGTERM starts a graceful shutdown; a second one exits at once with
// 128+signal.
func Main[C any](app App[C]) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		cancel(&SignalError{Signal: sig})
		sig = <-sigs
		fmt.Fprintf(os.Stderr, "%s: second %v: exiting now, without finishing the shutdown\n", app.Name, sig)
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()
	os.Exit(app.Run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr))
}

// SignalError is the cause of the context cancellation that Main delivers
// on SIGINT or SIGTERM.
type SignalError struct {
	Signal os.Signal
}

func (e *SignalError) Error() string { return "received " + e.Signal.String() }
