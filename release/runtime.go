package release

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/relkit/relkit/internal/layout"
	"github.com/relkit/relkit/internal/logfile"
	"github.com/relkit/relkit/runtimeconfig"
)

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

func (r *runner[C]) paths() (runtimePaths, error) {
	exe, err := os.Executable()
	if err != nil {
		return runtimePaths{}, fmt.Errorf("find the release's own binary: %w", err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		return runtimePaths{}, fmt.Errorf("working directory: %w", err)
	}
	l, err := layout.Resolve(exe, cwd, r.env)
	if err != nil {
		return runtimePaths{}, err
	}
	return runtimePaths{
		Layout:  l,
		pidFile: filepath.Join(l.Tmp, r.name+".pid"),
		socket:  filepath.Join(l.Tmp, r.name+".sock"),
		lock:    filepath.Join(l.Tmp, r.name+".lock"),
		logFile: filepath.Join(l.Log, r.name+".log"),
	}, nil
}

// mkdirs creates RELEASE_TMP and RELEASE_LOG_DIR readable only by the
// release's user.
func (p runtimePaths) mkdirs() error {
	if err := layout.MkdirPrivate(p.Tmp); err != nil {
		return fmt.Errorf("RELEASE_TMP: %w", err)
	}
	if err := layout.MkdirPrivate(p.Log); err != nil {
		return fmt.Errorf("RELEASE_LOG_DIR: %w", err)
	}
	return nil
}

// daemonConfig are the settings of daemon, its supervisor and stop, read
// from the environment like the app's own configuration.
type daemonConfig struct {
	LogMaxSize       byteSize      `env:"RELEASE_LOG_MAX_SIZE" envDefault:"10M" desc:"size at which the daemon's log file is rotated (bytes, or with K, M, G)"`
	LogKeep          int           `env:"RELEASE_LOG_KEEP" envDefault:"5" desc:"rotated log files kept (NAME.log.1 … NAME.log.N)"`
	ReadyTimeout     time.Duration `env:"RELEASE_READY_TIMEOUT" envDefault:"60s" desc:"how long the app may take to become ready at daemon and restart"`
	StopTimeout      time.Duration `env:"RELEASE_STOP_TIMEOUT" desc:"how long stop waits before killing; default SHUTDOWN_TIMEOUT plus 5s"`
	HeartMaxRestarts int           `env:"RELEASE_HEART_MAX_RESTARTS" envDefault:"5" desc:"crashes within RELEASE_HEART_WINDOW the daemon restarts the app after; 0 turns restarts off"`
	HeartWindow      time.Duration `env:"RELEASE_HEART_WINDOW" envDefault:"60s" desc:"window in which RELEASE_HEART_MAX_RESTARTS counts crashes"`
	Supervise        *bool         `env:"RELEASE_SUPERVISE" desc:"start of an assembled release runs under its supervisor, so upgrades keep the PID; false: one process (no upgrade, restart or heart), e.g. where Kubernetes replaces pods"`
	UpgradeTimeout   time.Duration `env:"UPGRADE_TIMEOUT" envDefault:"60s" desc:"how long the new release may take to become ready at upgrade and downgrade; the old one serves meanwhile, and keeps serving if it times out"`
	ShutdownTimeout  time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"30s"`
}

// Validate checks the settings; see runtimeconfig.Validator.
func (c *daemonConfig) Validate() error {
	var errs []error
	if c.LogKeep < 1 {
		errs = append(errs, runtimeconfig.FieldError{Var: "RELEASE_LOG_KEEP", Message: fmt.Sprintf("want at least 1, got %d", c.LogKeep)})
	}
	if c.HeartMaxRestarts < 0 {
		errs = append(errs, runtimeconfig.FieldError{Var: "RELEASE_HEART_MAX_RESTARTS", Message: fmt.Sprintf("want 0 (no restarts) or more, got %d", c.HeartMaxRestarts)})
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
func (c *daemonConfig) stopTimeout() time.Duration {
	if c.StopTimeout > 0 {
		return c.StopTimeout
	}
	return c.ShutdownTimeout + 5*time.Second
}

func (r *runner[C]) daemonConfig() (*daemonConfig, error) {
	c := new(daemonConfig)
	if _, err := runtimeconfig.Load(c, r.env, runtimeconfig.Options{}); err != nil || r.envErr != nil {
		return nil, joinConfigErrors(r.envErr, err)
	}
	return c, nil
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
