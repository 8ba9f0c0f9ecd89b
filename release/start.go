package release

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/relkit/relkit/server"
)

const startSummary = "run the release in the foreground; the HTTP server runs when enabled (SERVER)"

// start boots the application and blocks until ctx is cancelled (SIGINT or
// SIGTERM through Main), then shuts down within SHUTDOWN_TIMEOUT.
func (r *runner[C]) start(ctx context.Context, args []string) error {
	fs := r.flags("start", "", startSummary)
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &UsageError{Problem: fmt.Sprintf("start takes no arguments, got %q", fs.Arg(0)), Try: r.name + " start"}
	}
	cfg, base, log, err := r.setup()
	if err != nil {
		return err
	}
	serve := base.ServerEnabled(r.app.Server)
	if serve && r.app.Handler == nil {
		return ErrNoHandler
	}
	log.Info("starting", "version", r.version)
	if err := r.prepareDatabase(ctx, base, log); err != nil {
		return err
	}

	if !serve {
		if r.app.Handler == nil {
			log.Info("no HTTP server: the app defines no Handler")
		} else {
			log.Info(fmt.Sprintf("HTTP server is off (%s); SERVER=true turns it on", serverSource(base.Server != nil, r.app.Server)))
		}
		log.Info("running; send SIGTERM or SIGINT to stop")
		<-ctx.Done()
		log.Info("stopped", "reason", cause(ctx))
		return nil
	}

	h, err := r.app.Handler(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("build the HTTP handler: %w", err)
	}
	srv := server.New(h, server.Options{
		Addr:            fmt.Sprintf(":%d", base.Port),
		ShutdownTimeout: base.ShutdownTimeout,
		Logger:          log,
	})
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
	began := time.Now()
	log.Info("stopping: draining requests", "reason", cause(ctx), "timeout", base.ShutdownTimeout.String())
	if err := <-errc; err != nil {
		if errors.Is(err, server.ErrShutdownTimeout) {
			log.Error("shutdown timed out; in-flight requests were cut off", "timeout", base.ShutdownTimeout.String())
		}
		return err
	}
	log.Info("stopped", "took", time.Since(began).Round(time.Millisecond).String())
	return nil
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
