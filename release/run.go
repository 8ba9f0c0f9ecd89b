package release

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/relkit/relkit/internal/environ"
	"github.com/relkit/relkit/runtimeconfig"
	"github.com/relkit/relkit/server"
)

// Run runs the command line args (without the program name) with the
// environment env (as os.Environ returns it) and the given streams, and
// returns the exit code. Cancelling ctx is how a caller delivers SIGTERM:
// start shuts down gracefully and returns.
//
// Run never reads the process environment or exits the process; [Main]
// does that.
func (a App[C]) Run(ctx context.Context, args, env []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, a.plain(), nil, args, env, stdin, stdout, stderr)
}

// run runs one command line of app; sys is nil when nothing may touch the
// process (App.Run).
func run(ctx context.Context, a *app, sys system, args, env []string, stdin io.Reader, stdout, stderr io.Writer) int {
	r := newRunner(a, sys, environ.Map(env), stdin, stdout, stderr)
	err := r.dispatch(ctx, args)
	for _, f := range r.onExit {
		f()
	}
	return r.exit(err)
}

// runner is one run of the command line: the app, the streams, and the
// environment and settings, read once and passed to the command.
type runner struct {
	app *app
	sys system
	// env is the process environment with the release's environment
	// file beneath it.
	env *environ.Env
	// settings are loaded from env on first use, once each.
	settings *settings
	// exe and cwd are the binary's path and the working directory, which
	// locate the release root.
	exe, cwd string
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	// onExit runs before run returns, e.g. to write buffered log lines.
	onExit []func() error
	// maint is the app process's maintenance mode, set at boot.
	maint *server.Maintenance
	// usage prints each flag set's help, for -h (see flags).
	usage map[*flag.FlagSet]func()
	// ops is what debug log-level and debug stats change and read in
	// the app process (logging.go, debug_stats.go).
	ops opsState
}

func newRunner(a *app, sys system, proc map[string]string, stdin io.Reader, stdout, stderr io.Writer) *runner {
	exe, _ := os.Executable()
	cwd, _ := os.Getwd()
	env := environ.Load(proc, exe, cwd)
	return &runner{app: a, sys: sys, env: env, settings: newSettings(a, env, exe, cwd),
		exe: exe, cwd: cwd, stdin: stdin, stdout: stdout, stderr: stderr}
}

func (r *runner) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		r.writeHelp(r.stderr)
		return &UsageError{Problem: "no command given"}
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	}
	for _, c := range r.commands() {
		if c.name == name {
			return c.new().run(withInfo(ctx, Info{Name: r.app.name, Version: r.app.version}), r, args[1:])
		}
	}
	return &UsageError{Problem: fmt.Sprintf("unknown command %q", name), Try: r.app.name + " help"}
}

// exit prints err the way its kind deserves and returns the exit code.
func (r *runner) exit(err error) int {
	var (
		usage  *UsageError
		config *runtimeconfig.Error
		exit   *exitError
	)
	switch {
	case err == nil, errors.Is(err, errHelp):
		return ExitOK
	case errors.As(err, &exit):
		if exit.Err != nil {
			fmt.Fprintf(r.stderr, "Error: %s\n", exit.Err)
		}
		return exit.Code
	case errors.As(err, &usage):
		try := usage.Try
		if try == "" {
			try = r.app.name + " help"
		}
		fmt.Fprintf(r.stderr, "Error: %s\nTry: %s\n", usage.Problem, try)
		return ExitUsage
	case errors.As(err, &config):
		fmt.Fprintf(r.stderr, "Error: %s\nTry: %s config   (lists every variable, its default and where its value came from)\n", config, r.app.name)
		return ExitConfig
	case errors.Is(err, ErrNoHandler):
		fmt.Fprintf(r.stderr, "Error: %s\n", err)
		return ExitConfig
	default:
		fmt.Fprintf(r.stderr, "Error: %s\n", err)
		return ExitFailure
	}
}

// flags returns a flag set for command name whose errors the runner turns
// into usage errors; usage is the command's synopsis after its name.
func (r *runner) flags(name, usage, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// The flag package calls Usage on every parse error too; parse
	// prints it only for -h, so a bad flag gets Error: and Try: alone
	// and stdout stays clean for scripts reading -json.
	fs.Usage = func() {}
	if r.usage == nil {
		r.usage = make(map[*flag.FlagSet]func())
	}
	r.usage[fs] = func() {
		fmt.Fprintf(r.stdout, "Usage: %s %s %s\n\n%s\n", r.app.name, name, usage, summary)
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(r.stdout, "\nFlags:")
			fs.SetOutput(r.stdout)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	return fs
}

// parse parses args into fs, printing help on -h.
func (r *runner) parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		if usage := r.usage[fs]; usage != nil {
			usage()
		}
		return errHelp
	default:
		return &UsageError{Problem: err.Error(), Try: fmt.Sprintf("%s %s -h", r.app.name, fs.Name())}
	}
}

// noArgs parses args of a command that takes flags only; try is the
// command line a usage error suggests.
func (r *runner) noArgs(fs *flag.FlagSet, args []string, try string) error {
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &UsageError{Problem: fmt.Sprintf("%s takes no arguments, got %q", fs.Name(), fs.Arg(0)), Try: r.app.name + " " + try}
	}
	return nil
}

// applyEnvFile puts the release's environment file into the real
// environment of this process before it runs app code, so that the Go
// runtime and libraries see it: it re-executes the binary with the file's
// variables added. Without a system to do it (App.Run), or when nothing
// is missing, it does nothing.
func (r *runner) applyEnvFile() error {
	add := r.env.Unapplied()
	if r.sys == nil || len(add) == 0 {
		return nil
	}
	env := r.env.ForChild()
	for k, v := range add {
		env[k] = v
	}
	return r.sys.reexec(environ.List(env))
}
