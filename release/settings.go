package release

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/relkit/relkit/internal/relspec"

	"github.com/relkit/relkit/internal/environ"
	"github.com/relkit/relkit/internal/layout"
	"github.com/relkit/relkit/internal/logfile"
	"github.com/relkit/relkit/runtimeconfig"
)

// settings is everything one process reads from its environment: the
// app's configuration (with its Base), the release's own settings, the
// migration settings and the runtime paths. Each part is loaded on first
// use and then kept, so a process loads each at most once whatever its
// command asks; every part carries the environment file's problems.
type settings struct {
	app      *app
	env      *environ.Env
	exe, cwd string

	cfg       *loaded[appConfig]
	base      *loaded[*runtimeconfig.Base]
	release   *loaded[releaseSettings]
	migrate   *loaded[migrateSettings]
	pathsDone bool
	paths     runtimePaths
	pathsErr  error
}

// appConfig is the app's configuration and its Base.
type appConfig struct {
	cfg  any // *C
	base *runtimeconfig.Base
}

// loaded is one part of the settings, once loaded.
type loaded[T any] struct {
	value T
	vars  []runtimeconfig.Var
	err   error
}

func newSettings(a *app, env *environ.Env, exe, cwd string) *settings {
	return &settings{app: a, env: env, exe: exe, cwd: cwd}
}

// fileErr is the environment file's problems as a configuration error.
func (s *settings) fileErr() error {
	var ee *environ.Error
	if err := s.env.Err(); errors.As(err, &ee) {
		ce := &runtimeconfig.Error{}
		for _, p := range ee.Problems {
			ce.Problems = append(ce.Problems, runtimeconfig.Problem{Var: p.Where, Message: p.Message})
		}
		return ce
	} else if err != nil {
		return err
	}
	return nil
}

// App returns the app's configuration (a *C) and its Base, with the
// migration settings of an app that has migrations: what the app's own
// code runs with.
func (s *settings) App() (any, *runtimeconfig.Base, error) {
	c := s.appConfig()
	_, merr := s.Migrate()
	if err := joinConfigErrors(c.err, merr); err != nil {
		return nil, nil, err
	}
	return c.value.cfg, c.value.base, nil
}

func (s *settings) appConfig() *loaded[appConfig] {
	if s.cfg != nil {
		return s.cfg
	}
	opts := runtimeconfig.Options{Defaults: s.app.defaults}
	cfg := s.app.newConfig()
	vars, err := runtimeconfig.Load(cfg, s.env.Map(), opts)
	l := &loaded[appConfig]{value: appConfig{cfg: cfg}}
	if b, ok := cfg.(interface{ BaseConfig() *runtimeconfig.Base }); ok {
		l.value.base, l.vars, l.err = b.BaseConfig(), vars, joinConfigErrors(s.fileErr(), err)
	} else {
		// The configuration does not embed Base: read Base on its own.
		base := new(runtimeconfig.Base)
		baseVars, baseErr := runtimeconfig.Load(base, s.env.Map(), opts)
		l.value.base, l.vars, l.err = base, append(baseVars, vars...), joinConfigErrors(s.fileErr(), baseErr, err)
	}
	s.cfg = l
	return l
}

// Base returns the Base settings (PORT, SERVER, LOG_*, ...) alone, without
// loading the app's own variables, for the supervisor, which runs no app
// code.
func (s *settings) Base() (*runtimeconfig.Base, error) {
	if s.cfg != nil && s.cfg.err == nil {
		return s.cfg.value.base, nil
	}
	if s.base == nil {
		l := &loaded[*runtimeconfig.Base]{value: new(runtimeconfig.Base)}
		vars, err := runtimeconfig.Load(l.value, s.env.Map(), runtimeconfig.Options{Defaults: s.app.defaults})
		l.vars, l.err = vars, joinConfigErrors(s.fileErr(), err)
		s.base = l
	}
	return s.base.value, s.base.err
}

// Release returns the release's own settings.
func (s *settings) Release() (*releaseSettings, error) {
	if s.release == nil {
		l := &loaded[releaseSettings]{}
		vars, err := runtimeconfig.Load(&l.value, s.env.Map(), runtimeconfig.Options{})
		l.vars, l.err = vars, joinConfigErrors(s.fileErr(), err)
		s.release = l
	}
	return &s.release.value, s.release.err
}

// Migrate returns the migration settings; an app without migrations reads
// none and gets the zero value.
func (s *settings) Migrate() (*migrateSettings, error) {
	if s.migrate == nil {
		l := &loaded[migrateSettings]{}
		if s.app.migrations != nil {
			vars, err := runtimeconfig.Load(&l.value, s.env.Map(), runtimeconfig.Options{Defaults: s.app.defaults})
			l.vars, l.err = vars, err
		}
		s.migrate = l
	}
	return &s.migrate.value, s.migrate.err
}

// Paths returns where the running release keeps its files.
func (s *settings) Paths() (runtimePaths, error) {
	if !s.pathsDone {
		s.paths, s.pathsErr = resolvePaths(s.app.name, s.exe, s.cwd, s.env.Map())
		s.pathsDone = true
	}
	return s.paths, s.pathsErr
}

// Vars describes every variable the release reads, the app's first, and
// returns every problem found in them.
func (s *settings) Vars() ([]runtimeconfig.Var, error) {
	c := s.appConfig()
	_, rerr := s.Release()
	_, merr := s.Migrate()
	vars := append([]runtimeconfig.Var(nil), c.vars...)
	vars = append(vars, s.migrate.vars...)
	seen := map[string]bool{}
	for _, v := range vars {
		seen[v.Name] = true
	}
	add := func(v runtimeconfig.Var) {
		if !seen[v.Name] {
			seen[v.Name] = true
			vars = append(vars, v)
		}
	}
	for _, v := range s.release.vars {
		add(v)
	}
	if p, err := s.Paths(); err == nil {
		for _, d := range []struct{ name, value, desc string }{
			{relspec.EnvRoot, p.Root, "root of the release: from the binary's location in an assembled release, else the working directory"},
			{relspec.EnvTmp, p.Tmp, "PID file, control socket and lock (created 0700); default RELEASE_ROOT/tmp"},
			{relspec.EnvLogDir, p.Log, "the daemon's log files (created 0700); default RELEASE_ROOT/log"},
		} {
			src := runtimeconfig.SourceDefault
			if _, ok := s.env.Lookup(d.name); ok {
				src = runtimeconfig.SourceEnv
			}
			add(runtimeconfig.Var{Name: d.name, Value: d.value, Source: src, Description: d.desc})
		}
	}
	return vars, joinConfigErrors(c.err, merr, rerr)
}

// joinConfigErrors merges configuration errors into one, so that every
// problem is listed at once; a problem reported twice (the environment
// file's, by several parts) is listed once.
func joinConfigErrors(errs ...error) error {
	var merged runtimeconfig.Error
	seen := map[runtimeconfig.Problem]bool{}
	var other []error
	for _, err := range errs {
		var ce *runtimeconfig.Error
		switch {
		case err == nil:
		case errors.As(err, &ce):
			for _, p := range ce.Problems {
				if !seen[p] {
					seen[p] = true
					merged.Problems = append(merged.Problems, p)
				}
			}
		default:
			other = append(other, err)
		}
	}
	if len(merged.Problems) > 0 {
		other = append([]error{&merged}, other...)
	}
	return errors.Join(other...)
}

// releaseSettings are the settings of daemon, its supervisor, stop and the
// switches, read from the environment like the app's own configuration.
type releaseSettings struct {
	LogMaxSize       byteSize      `env:"RELEASE_LOG_MAX_SIZE" envDefault:"10M" desc:"size at which the daemon's log file is rotated (bytes, or with K, M, G)"`
	LogKeep          int           `env:"RELEASE_LOG_KEEP" envDefault:"5" desc:"rotated log files kept (NAME.log.1 … NAME.log.N)"`
	ReadyTimeout     time.Duration `env:"RELEASE_READY_TIMEOUT" envDefault:"60s" desc:"how long the app may take to become ready at daemon and restart"`
	StopTimeout      time.Duration `env:"RELEASE_STOP_TIMEOUT" desc:"how long stop waits before killing; default SHUTDOWN_TIMEOUT plus 5s"`
	HeartMaxRestarts int           `env:"RELEASE_HEART_MAX_RESTARTS" envDefault:"5" desc:"crashes within RELEASE_HEART_WINDOW the daemon restarts the app after; 0 turns restarts off"`
	HeartWindow      time.Duration `env:"RELEASE_HEART_WINDOW" envDefault:"60s" desc:"window in which RELEASE_HEART_MAX_RESTARTS counts crashes"`
	Supervise        *bool         `env:"RELEASE_SUPERVISE" desc:"start of an assembled release runs under its supervisor, so upgrades keep the PID; false: one process (no upgrade, restart or heart), e.g. where Kubernetes replaces pods"`
	UpgradeTimeout   time.Duration `env:"UPGRADE_TIMEOUT" envDefault:"60s" desc:"how long the new release may take to become ready at upgrade and downgrade; the old one serves meanwhile, and keeps serving if it times out"`
	UpgradeProbation time.Duration `env:"UPGRADE_PROBATION" envDefault:"60s" desc:"window after an upgrade or downgrade in which a crash of the new release switches back to the previous one; 0 turns it off"`
	ShutdownTimeout  time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"30s"`
	Keep             int           `env:"RELEASE_KEEP" envDefault:"5" desc:"releases kept under releases/ after every successful upgrade, downgrade or switch (releases prune; the running, permanent and previous ones always stay); 0 turns the automatic prune off"`
}

// Validate checks the settings; see runtimeconfig.Validator.
func (c *releaseSettings) Validate() error {
	var errs []error
	if c.LogKeep < 1 {
		errs = append(errs, runtimeconfig.FieldError{Var: "RELEASE_LOG_KEEP", Message: fmt.Sprintf("want at least 1, got %d", c.LogKeep)})
	}
	if c.HeartMaxRestarts < 0 {
		errs = append(errs, runtimeconfig.FieldError{Var: "RELEASE_HEART_MAX_RESTARTS", Message: fmt.Sprintf("want 0 (no restarts) or more, got %d", c.HeartMaxRestarts)})
	}
	if c.Keep < 0 {
		errs = append(errs, runtimeconfig.FieldError{Var: "RELEASE_KEEP", Message: fmt.Sprintf("want 0 (keep every release) or more, got %d", c.Keep)})
	}
	if c.UpgradeProbation < 0 {
		errs = append(errs, runtimeconfig.FieldError{Var: "UPGRADE_PROBATION", Message: "want 0 (off) or a positive duration such as 60s"})
	}
	for _, d := range []struct {
		name string
		v    time.Duration
		set  bool
	}{
		{"RELEASE_READY_TIMEOUT", c.ReadyTimeout, true},
		{"UPGRADE_TIMEOUT", c.UpgradeTimeout, true},
		{"RELEASE_HEART_WINDOW", c.HeartWindow, true},
		{"RELEASE_STOP_TIMEOUT", c.StopTimeout, c.StopTimeout != 0},
	} {
		if d.set && d.v <= 0 {
			errs = append(errs, runtimeconfig.FieldError{Var: d.name, Message: "want a positive duration such as 30s"})
		}
	}
	return errors.Join(errs...)
}

// stopTimeout is how long a generation or a stopping system may take.
func (c *releaseSettings) stopTimeout() time.Duration {
	if c.StopTimeout > 0 {
		return c.StopTimeout
	}
	return c.ShutdownTimeout + 5*time.Second
}

// supervised reports whether start runs the supervisor: in an assembled
// release unless RELEASE_SUPERVISE=false, and in a development build only
// when RELEASE_SUPERVISE=true.
func (c *releaseSettings) supervised(assembled bool) bool {
	if c.Supervise != nil {
		return *c.Supervise
	}
	return assembled
}

// migrateSettings are the variables a release with migrations reads, on
// top of runtimeconfig.Base's DATABASE_URL.
type migrateSettings struct {
	OnStart          bool          `env:"MIGRATE_ON_START" envDefault:"false" desc:"apply pending migrations at start, before serving (replicas take turns)"`
	LockTimeout      time.Duration `env:"MIGRATE_LOCK_TIMEOUT" envDefault:"1m" desc:"how long migrate waits to connect and for another process's migration lock"`
	AllowNewerSchema bool          `env:"MIGRATE_ALLOW_NEWER_SCHEMA" envDefault:"false" desc:"let start boot on a database migrated by a newer release"`
}

// Validate rejects a lock timeout that would never wait.
func (c *migrateSettings) Validate() error {
	if c.LockTimeout <= 0 {
		return runtimeconfig.FieldError{Var: "MIGRATE_LOCK_TIMEOUT", Message: "want a positive duration such as 1m"}
	}
	return nil
}

// byteSize is a size read from the environment, e.g. 10M.
type byteSize int64

// UnmarshalText parses sizes such as 10485760, 512K, 10M or 1G.
func (b *byteSize) UnmarshalText(text []byte) error {
	n, err := logfile.ParseSize(string(text))
	if err != nil {
		return errors.New("want a positive number of bytes, optionally with K, M or G (e.g. 10M)")
	}
	*b = byteSize(n)
	return nil
}

// runtimePaths are the files of a running release: RELEASE_TMP holds the
// PID file, the control socket and the instance lock; RELEASE_LOG_DIR the
// log of a daemon.
type runtimePaths struct {
	layout.Layout
	pidFile string // TMP/NAME.pid
	socket  string // TMP/NAME.sock
	lock    string // TMP/NAME.lock
	logFile string // LOG/NAME.log
}

func resolvePaths(name, exe, cwd string, env map[string]string) (runtimePaths, error) {
	if exe == "" {
		return runtimePaths{}, errors.New("cannot find the release's own binary (os.Executable failed)")
	}
	l, err := layout.Resolve(exe, cwd, env)
	if err != nil {
		return runtimePaths{}, err
	}
	return runtimePaths{
		Layout:  l,
		pidFile: filepath.Join(l.Tmp, name+".pid"),
		socket:  filepath.Join(l.Tmp, name+".sock"),
		lock:    filepath.Join(l.Tmp, name+".lock"),
		logFile: filepath.Join(l.Log, name+".log"),
	}, nil
}

// mkdirs creates RELEASE_TMP and RELEASE_LOG_DIR readable only by the
// release's user.
func (p runtimePaths) mkdirs() error {
	if err := p.mkdirTmp(); err != nil {
		return err
	}
	return p.mkdirLog()
}

// mkdirTmp creates RELEASE_TMP readable only by the release's user.
func (p runtimePaths) mkdirTmp() error {
	if err := layout.MkdirPrivate(p.Tmp); err != nil {
		return fmt.Errorf("RELEASE_TMP: %w", err)
	}
	return nil
}

// mkdirLog creates RELEASE_LOG_DIR readable only by the release's user.
func (p runtimePaths) mkdirLog() error {
	if err := layout.MkdirPrivate(p.Log); err != nil {
		return fmt.Errorf("RELEASE_LOG_DIR: %w", err)
	}
	return nil
}

// exitError makes a command exit with Code after printing "Error: " and
// Err (nothing when Err is nil).
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *exitError) Unwrap() error { return e.Err }
