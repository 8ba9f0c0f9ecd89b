package release

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"time"
)

// app is an [App] with its typed parts adapted, once, to plain values:
// the configuration is an any holding a *C, and the handler, checks and
// tasks are closures that assert it back. Everything below App.Run works
// on it, so the command line is not generic.
type app struct {
	name, version string
	// server is the code-level default for the HTTP server (App.Server).
	server bool
	// newConfig returns a new *C.
	newConfig func() any
	// handler is App.Handler; nil when the app has none.
	handler       func(ctx context.Context, cfg any, log *slog.Logger) (http.Handler, error)
	checks        []check
	serverOptions ServerOptions
	tasks         map[string]task
	defaults      map[string]string
	handoff       Handoff
	migrations    fs.FS
	trustedKeys   []string
}

// check is an App.Checks entry.
type check struct {
	name    string
	run     func(ctx context.Context, cfg any) error // nil: reported by the server
	timeout time.Duration
}

// task is an App.Tasks entry.
type task struct {
	summary, usage string
	via            Via
	run            func(ctx context.Context, call *taskCall) error // nil: unknown
}

// taskCall is a [Call] with the configuration as an any.
type taskCall struct {
	args           []string
	config         any
	logger         *slog.Logger
	stdin          io.Reader
	stdout, stderr io.Writer
}

// plain adapts a to the command line's plain values.
func (a App[C]) plain() *app {
	p := &app{
		name:          a.Name,
		version:       resolveVersion(a.Version),
		server:        a.Server,
		newConfig:     func() any { return new(C) },
		serverOptions: a.ServerOptions,
		defaults:      a.Defaults,
		handoff:       a.Handoff,
		migrations:    a.Migrations,
		trustedKeys:   a.TrustedKeys,
		tasks:         make(map[string]task, len(a.Tasks)),
	}
	if p.name == "" {
		p.name = "app"
	}
	info := Info{Name: p.name, Version: p.version}
	if h := a.Handler; h != nil {
		p.handler = func(ctx context.Context, cfg any, log *slog.Logger) (http.Handler, error) {
			return h(withInfo(ctx, info), cfg.(*C), log)
		}
	}
	for _, c := range a.Checks {
		pc := check{name: c.Name, timeout: c.Timeout}
		if run := c.Run; run != nil {
			pc.run = func(ctx context.Context, cfg any) error { return run(ctx, cfg.(*C)) }
		}
		p.checks = append(p.checks, pc)
	}
	for name, t := range a.Tasks {
		pt := task{summary: t.Summary, usage: t.Usage, via: t.Via}
		if run := t.Run; run != nil {
			pt.run = func(ctx context.Context, c *taskCall) error {
				cfg, _ := c.config.(*C)
				return run(withInfo(ctx, info), &Call[C]{Args: c.args, Config: cfg, Logger: c.logger, Stdin: c.stdin, Stdout: c.stdout, Stderr: c.stderr})
			}
		}
		p.tasks[name] = pt
	}
	return p
}

// usageOf returns the UsageError err is or wraps, or nil.
func usageOf(err error) *UsageError {
	var u *UsageError
	if errors.As(err, &u) {
		return u
	}
	return nil
}
