package release

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/relkit/relkit/runtimeconfig"
)

// Run runs the command line args (without the program name) with the
// environment env (as os.Environ returns it) and the given streams, and
// returns the exit code. Cancelling ctx is how a caller delivers SIGTERM:
// start shuts down gracefully and returns.
//
// Run never reads the process environment or exits the process; [Main]
// does that.
func (a App[C]) Run(ctx context.Context, args, env []string, stdin io.Reader, stdout, stderr io.Writer) int {
	r := &runner[C]{app: a, procEnv: envMap(env), stdin: stdin, stdout: stdout, stderr: stderr}
	r.env, r.envFile, r.envErr = loadEnvFile(r.procEnv)
	r.name = a.Name
	if r.name == "" {
		r.name = "app"
	}
	r.version = resolveVersion(a.Version)
	err := r.dispatch(ctx, args)
	for _, f := range r.onExit {
		f()
	}
	return r.exit(err)
}

// runner is one invocation of the command line.
type runner[C any] struct {
	app     App[C]
	name    string
	version string
	// procEnv is the process environment; env is procEnv over the
	// release's environment file (envFile, "" when none), which envErr
	// reports problems of. Processes the release starts get procEnv, so
	// that each reads its own release's file.
	procEnv map[string]string
	env     map[string]string
	envFile string
	envErr  error
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	// onExit runs before Run returns, e.g. to write buffered log lines.
	onExit []func() error
}

// command is one entry of the command line.
type command[C any] struct {
	name    string
	summary string
	run     func(r *runner[C], ctx context.Context, args []string) error
	hidden  bool
}

// commands lists the commands, one line each, in the order help shows them.
func (r *runner[C]) commands() []command[C] {
	return []command[C]{
		{name: "start", summary: startSummary, run: (*runner[C]).start},
		{name: "health", summary: healthSummary, run: (*runner[C]).health},
		{name: "daemon", summary: daemonSummary, run: (*runner[C]).daemon},
		{name: "stop", summary: stopSummary, run: (*runner[C]).stopCmd},
		{name: "pid", summary: pidSummary, run: (*runner[C]).pidCmd},
		{name: "restart", summary: restartSummary, run: (*runner[C]).restartCmd},
		{name: "upgrade", summary: upgradeSummary, run: (*runner[C]).upgrade},
		{name: "downgrade", summary: downgradeSummary, run: (*runner[C]).downgrade},
		{name: "releases", summary: releasesSummary, run: (*runner[C]).releasesCmd},
		{name: "rpc", summary: rpcSummary, run: (*runner[C]).rpc},
		{name: "eval", summary: evalSummary, run: (*runner[C]).eval},
		{name: "migrate", summary: migrateSummary, run: (*runner[C]).migrate, hidden: r.app.Migrations == nil},
		{name: "rollback", summary: rollbackSummary, run: (*runner[C]).rollback, hidden: r.app.Migrations == nil},
		{name: "config", summary: configSummary, run: (*runner[C]).config},
		{name: "version", summary: versionSummary, run: (*runner[C]).versionCmd},
		{name: "gen-secret", summary: genSecretSummary, run: (*runner[C]).genSecret},
		{name: "help", summary: helpSummary, run: (*runner[C]).help},
		{name: "relkit-info", summary: infoSummary, run: (*runner[C]).info, hidden: true},
		{name: superviseCommand, summary: superviseSummary, run: (*runner[C]).supervise, hidden: true},
	}
}

func (r *runner[C]) dispatch(ctx context.Context, args []string) error {
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
			return c.run(r, withInfo(ctx, Info{Name: r.name, Version: r.version}), args[1:])
		}
	}
	return &UsageError{Problem: fmt.Sprintf("unknown command %q", name), Try: r.name + " help"}
}

// exit prints err the way its kind deserves and returns the exit code.
func (r *runner[C]) exit(err error) int {
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
			try = r.name + " help"
		}
		fmt.Fprintf(r.stderr, "Error: %s\nTry: %s\n", usage.Problem, try)
		return ExitUsage
	case errors.As(err, &config):
		fmt.Fprintf(r.stderr, "Error: %s\nTry: %s config   (lists every variable, its default and where its value came from)\n", config, r.name)
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
func (r *runner[C]) flags(name, usage, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(r.stdout, "Usage: %s %s %s\n\n%s\n", r.name, name, usage, summary)
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
func (r *runner[C]) parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		// The flag package has printed fs.Usage already.
		return errHelp
	default:
		return &UsageError{Problem: err.Error(), Try: fmt.Sprintf("%s %s -h", r.name, fs.Name())}
	}
}

// loadConfig loads the configuration from the environment. vars describes
// every variable read, even when err is not nil.
func (r *runner[C]) loadConfig() (*C, *runtimeconfig.Base, []runtimeconfig.Var, error) {
	cfg := new(C)
	opts := runtimeconfig.Options{Defaults: r.app.Defaults}
	vars, err := runtimeconfig.Load(cfg, r.env, opts)
	_, migrateVars, migrateErr := r.loadMigrateConfig()
	if b, ok := any(cfg).(interface{ BaseConfig() *runtimeconfig.Base }); ok {
		return cfg, b.BaseConfig(), append(vars, migrateVars...), joinConfigErrors(r.envErr, err, migrateErr)
	}
	// The configuration does not embed Base: read Base on its own.
	base := new(runtimeconfig.Base)
	baseVars, baseErr := runtimeconfig.Load(base, r.env, opts)
	return cfg, base, append(append(baseVars, vars...), migrateVars...), joinConfigErrors(r.envErr, baseErr, err, migrateErr)
}

// joinConfigErrors merges configuration errors into one, so that every
// problem is listed at once.
func joinConfigErrors(errs ...error) error {
	var merged runtimeconfig.Error
	var other []error
	for _, err := range errs {
		var ce *runtimeconfig.Error
		switch {
		case err == nil:
		case errors.As(err, &ce):
			merged.Problems = append(merged.Problems, ce.Problems...)
		default:
			other = append(other, err)
		}
	}
	if len(merged.Problems) > 0 {
		other = append([]error{&merged}, other...)
	}
	return errors.Join(other...)
}

// setup loads the configuration and builds the logger, as every command
// that runs application code does.
func (r *runner[C]) setup() (*C, *runtimeconfig.Base, *slog.Logger, error) {
	cfg, base, _, err := r.loadConfig()
	if err != nil {
		var ce *runtimeconfig.Error
		if errors.As(err, &ce) {
			return nil, nil, nil, ce
		}
		return nil, nil, nil, err
	}
	log := r.newLogger(r.stderr, base.LogLevel.Level(), base.LogFormat).With("app", r.name)
	return cfg, base, log, nil
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "" {
			m[k] = v
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
