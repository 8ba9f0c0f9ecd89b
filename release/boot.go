package release

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/relkit/relkit/internal/relspec"

	"github.com/relkit/relkit/internal/sdnotify"
	"github.com/relkit/relkit/runtimeconfig"
	"github.com/relkit/relkit/server"
)

// boot runs the app process: it loads the configuration, serves the
// control socket, prepares the database, builds the handler, takes over
// handed-over state and serves until ctx is cancelled, then shuts down
// within SHUTDOWN_TIMEOUT.
func (r *runner) boot(ctx context.Context) error {
	cfg, base, log, err := r.setup()
	if err != nil {
		return err
	}
	serve := base.ServerEnabled(r.app.server)
	if serve && r.app.handler == nil {
		return ErrNoHandler
	}
	if _, ok := r.generation(); ok {
		log.Info("starting") // the logger carries generation and version
	} else {
		log.Info("starting", "version", r.app.version)
	}
	r.ops.started = time.Now()
	r.ops.mu.Lock()
	r.ops.log = log
	r.ops.mu.Unlock()
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	r.maint = &server.Maintenance{}
	if err := r.reloadMaintenance(log); err != nil {
		return err
	}
	closeControl, err := r.serveControl(stop, cfg, log)
	if err != nil {
		return err
	}
	defer closeControl()
	if err := r.prepareDatabase(ctx, base, log); err != nil {
		return err
	}

	if !serve {
		if r.app.handler == nil {
			log.Info("no HTTP server: the app defines no Handler")
		} else {
			log.Info(fmt.Sprintf("HTTP server is off (%s); SERVER=true turns it on", serverSource(base.Server != nil, r.app.server)))
		}
		if err := r.importState(ctx, log); err != nil {
			return err
		}
		log.Info("running; send SIGTERM or SIGINT to stop")
		r.notifyReady(log)
		<-ctx.Done()
		log.Info("stopped", "reason", cause(ctx))
		return nil
	}

	h, err := r.app.handler(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("build the HTTP handler: %w", err)
	}
	if err := r.importState(ctx, log); err != nil {
		return err
	}
	srv := server.New(h, r.serverOptions(cfg, base, log))
	r.ops.server.Store(srv)
	// The server drains once this line is logged, so the log reads in
	// the order things happen.
	srvCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServer()
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(srvCtx) }()
	select {
	case <-srv.Ready():
		log.Info(fmt.Sprintf("HTTP server listening (%s); SERVER=false turns it off", serverSource(base.Server != nil, r.app.server)),
			"addr", srv.Addr().String())
	case err := <-errc:
		return err
	}
	<-ctx.Done()
	log.Info("stopping: draining requests", "reason", cause(ctx), "drain_delay", base.DrainDelay.String(), "timeout", base.ShutdownTimeout.String())
	stopServer()
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
func (r *runner) serverOptions(cfg any, base *runtimeconfig.Base, log *slog.Logger) server.Options {
	a := r.app.serverOptions
	o := server.Options{
		Addr:              fmt.Sprintf(":%d", base.Port),
		Env:               r.env.Map(),
		Name:              r.app.name,
		Version:           r.app.version,
		Logger:            log,
		ShutdownTimeout:   base.ShutdownTimeout,
		DrainDelay:        base.DrainDelay,
		ReadHeaderTimeout: a.ReadHeaderTimeout,
		ReadTimeout:       a.ReadTimeout,
		WriteTimeout:      a.WriteTimeout,
		IdleTimeout:       a.IdleTimeout,
		MaxHeaderBytes:    a.MaxHeaderBytes,
		DrainIdleTimeout:  a.DrainIdleTimeout,
		HealthPath:        a.HealthPath,
		ReadyPath:         a.ReadyPath,
		DisableHealth:     a.DisableHealth,
		Checks:            slices.Clone(a.Checks),
		DisableRequestID:  a.DisableRequestID,
		DisableRecover:    a.DisableRecover,
		DisableAccessLog:  a.DisableAccessLog,
		ConfigureHTTP:     a.ConfigureHTTP,
		Maintenance:       r.maint,
	}
	// A generation after the first takes over sockets the previous one
	// may still serve (upgrade, downgrade, restart, a heart restart):
	// it accepts nothing until it is ready.
	if g, ok := r.generation(); ok && g.Number > 1 {
		o.ServeAfterReady = true
	}
	for _, c := range r.app.checks {
		run := c.run
		var f func(context.Context) error
		if run != nil { // a nil Run is reported by server.Run
			f = func(ctx context.Context) error { return run(ctx, cfg) }
		}
		o.Checks = append(o.Checks, server.Check{Name: c.name, Func: f, Timeout: c.timeout})
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

// notifyReady tells the process manager (a relkit supervisor or systemd,
// through NOTIFY_SOCKET) that a release running without an HTTP server is
// ready. With the server on, the server package sends READY=1 itself once
// every readiness check has passed.
func (r *runner) notifyReady(log *slog.Logger) {
	if err := sdnotify.Send(r.env.Get(relspec.EnvNotifySocket), sdnotify.Ready, "STATUS="+r.app.name+" "+r.app.version+" ready"); err != nil {
		log.Debug("notify the service manager", "err", err)
	}
}

// setup loads the app's configuration and builds the logger, as every
// command that runs application code does.
func (r *runner) setup() (any, *runtimeconfig.Base, *slog.Logger, error) {
	cfg, base, err := r.settings.App()
	if err != nil {
		return nil, nil, nil, err
	}
	log := r.newLogger(r.stderr, base.LogLevel.Level(), base.LogFormat).With("app", r.app.name)
	return cfg, base, log, nil
}
