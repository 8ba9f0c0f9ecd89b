package release

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/relkit/relkit/internal/supervisor"
	"github.com/relkit/relkit/runtimeconfig"
	"github.com/relkit/relkit/server"
)

const startSummary = "run the release in the foreground; the HTTP server runs when enabled (SERVER)"

// start runs the release in the foreground until ctx is cancelled (SIGINT
// or SIGTERM through Main). An assembled release runs under its
// supervisor, in this process, so that the PID systemd, Docker or a PID
// file know stays the same across restarts and upgrades; the supervisor
// runs the app as its child (start again, told so by
// RELKIT_CONTROL_SOCKET). A development build (go run, go build) runs the
// app in this process.
func (r *runner[C]) start(ctx context.Context, args []string) error {
	fs := r.flags("start", "", startSummary)
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &UsageError{Problem: fmt.Sprintf("start takes no arguments, got %q", fs.Arg(0)), Try: r.name + " start"}
	}
	if r.env[supervisor.EnvControlSocket] == "" {
		p, err := r.paths()
		if err != nil {
			return err
		}
		dc, err := r.daemonConfig()
		if err != nil {
			return err
		}
		if supervised(p.Assembled, dc) {
			return r.runSupervisor(ctx, true)
		}
	}
	return r.serveApp(ctx)
}

// supervised reports whether start runs the supervisor: in an assembled
// release unless RELEASE_SUPERVISE=false, and in a development build only
// when RELEASE_SUPERVISE=true.
func supervised(assembled bool, dc *daemonConfig) bool {
	if dc.Supervise != nil {
		return *dc.Supervise
	}
	return assembled
}

// serveApp boots the application and blocks until ctx is cancelled, then
// shuts down within SHUTDOWN_TIMEOUT.
func (r *runner[C]) serveApp(ctx context.Context) error {
	cfg, base, log, err := r.setup()
	if err != nil {
		return err
	}
	serve := base.ServerEnabled(r.app.Server)
	if serve && r.app.Handler == nil {
		return ErrNoHandler
	}
	log.Info("starting", "version", r.version)
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	closeControl, err := r.serveControl(stop, cfg, log)
	if err != nil {
		return err
	}
	defer closeControl()
	if err := r.prepareDatabase(ctx, base, log); err != nil {
		return err
	}

	if !serve {
		if r.app.Handler == nil {
			log.Info("no HTTP server: the app defines no Handler")
		} else {
			log.Info(fmt.Sprintf("HTTP server is off (%s); SERVER=true turns it on", serverSource(base.Server != nil, r.app.Server)))
		}
		if err := r.importState(ctx, log); err != nil {
			return err
		}
		log.Info("running; send SIGTERM or SIGINT to stop")
		r.notifyReady()
		<-ctx.Done()
		log.Info("stopped", "reason", cause(ctx))
		return nil
	}

	h, err := r.app.Handler(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("build the HTTP handler: %w", err)
	}
	if err := r.importState(ctx, log); err != nil {
		return err
	}
	srv := server.New(h, r.serverOptions(cfg, base, log))
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
		log.Info(fmt.Sprintf("HTTP server listening (%s); SERVER=false turns it off", serverSource(base.Server != nil, r.app.Server)),
			"addr", srv.Addr().String())
	case err := <-errc:
		return err
	}
	<-ctx.Done()
	log.Info("stopping: draining requests", "reason", cause(ctx), "drain_delay", base.DrainDelay.String(), "timeout", base.ShutdownTimeout.String())
	if err := <-errc; err != nil {
		if errors.Is(err, server.ErrShutdownTimeout) {
			log.Error("shutdown timed out; in-flight requests were cut off", "timeout", base.ShutdownTimeout.String())
		}
		return err
	}
	return nil
}

// serverOptions are the app's ServerOptions with what start owns filled
// in: the listeners (sockets handed over in the environment, else PORT),
// the drain timing, systemd notification and the app's readiness checks.
func (r *runner[C]) serverOptions(cfg *C, base *runtimeconfig.Base, log *slog.Logger) server.Options {
	o := r.app.ServerOptions
	o.Addr = fmt.Sprintf(":%d", base.Port)
	o.Env = r.env
	o.Name, o.Version = r.name, r.version
	o.Logger = log
	o.ShutdownTimeout = base.ShutdownTimeout
	o.DrainDelay = base.DrainDelay
	o.Checks = slices.Clone(o.Checks)
	for _, c := range r.app.Checks {
		run := c.Run
		var f func(context.Context) error
		if run != nil { // a nil Run is reported by server.Run
			f = func(ctx context.Context) error { return run(ctx, cfg) }
		}
		o.Checks = append(o.Checks, server.Check{Name: c.Name, Func: f, Timeout: c.Timeout})
	}
	return o
}

func serverSource(fromEnv, codeDefault bool) string {
	if fromEnv {
		return "set by SERVER"
	}
	return fmt.Sprintf("the app's default is Server: %v", codeDefault)
}

func cause(ctx context.Context) string {
	if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
		return c.Error()
	}
	return "context cancelled"
}
