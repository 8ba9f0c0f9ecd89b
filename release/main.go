package release

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Main runs app with the process's arguments, environment and standard
// streams, and exits with the command's exit code. The first SIGINT or
// SIGTERM starts a graceful shutdown; a second one exits at once with
// 128+signal.
//
// A command that runs the app's code in this process (start without a
// supervisor, eval, migrate, rollback) needs the release's environment file
// in its real environment, where the Go runtime and libraries read it
// (GOMEMLIMIT, TZ, PGSSLMODE, ...): Main re-executes the binary with the
// file's variables added, once, before the command runs. [App.Run] never
// does; it merges the file in-process only.
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
	os.Exit(run(ctx, app.plain(), processOS{}, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr))
}

// SignalError is the cause of the context cancellation that Main delivers
// on SIGINT or SIGTERM.
type SignalError struct {
	Signal os.Signal
}

func (e *SignalError) Error() string { return "received " + e.Signal.String() }

// system is what a run needs of the operating system beyond its arguments,
// environment and streams. Main passes the process's own; App.Run passes
// none (nil), so that tests never replace the test process.
type system interface {
	// reexec replaces the process with its own program and arguments,
	// running with env. It returns only on failure.
	reexec(env []string) error
}

// processOS is the running process.
type processOS struct{}

func (processOS) reexec(env []string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the release's own binary to apply its environment file: %w", err)
	}
	err = syscall.Exec(exe, os.Args, env)
	return errors.Join(fmt.Errorf("re-execute %s with its environment file applied", exe), err)
}
