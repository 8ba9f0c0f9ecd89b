package server

import (
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Options configures a [Server]. The zero value serves on ":4000" with
// health endpoints, request IDs, panic recovery and an access log, and the
// defaults documented on each field.
type Options struct {
	// Addr is the TCP address to listen on when no listener is given or
	// inherited. Default ":4000".
	Addr string

	// Listener, when set, is served instead of listening on Addr or
	// taking inherited sockets. The server closes it on shutdown.
	Listener net.Listener

	// Listeners, when set, are all served (with Listener, if that is set
	// too), e.g. the "http" sockets from [InheritedListeners] when the
	// application takes other named sockets for itself. The server closes
	// them on shutdown. Default: none.
	Listeners []net.Listener

	// Env is the process environment as a map; the server never reads
	// the environment itself. It supplies the sockets a parent handed
	// over (RELKIT_LISTEN_FDS, or systemd's LISTEN_FDS with LISTEN_PID,
	// and their FDNAMES), used when Listener and Listeners are unset, and
	// systemd notification (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID).
	// Default nil: listen on Addr, notify nobody.
	Env map[string]string

	// ServeAfterReady makes Run accept no connection before the readiness
	// checks have passed: the listeners are served only then. A process
	// that takes over sockets another one still serves (a release
	// switched to by the supervisor) sets it, so that the old process
	// answers every request until the new one is ready. Default false:
	// serve at once, and answer /readyz with 503 until the checks pass.
	ServeAfterReady bool

	// Name and Version describe the application in the STATUS= line sent
	// to systemd and in log messages. Default: empty.
	Name, Version string

	// Logger receives the server's own messages and the access log.
	// Default: discarded.
	Logger *slog.Logger

	// ReadHeaderTimeout bounds reading a request's headers, cutting off
	// slowloris clients. Default 10s; negative disables it.
	ReadHeaderTimeout time.Duration

	// ReadTimeout bounds reading a whole request, body included. Default
	// none (0): uploads may take as long as they need.
	ReadTimeout time.Duration

	// WriteTimeout bounds writing a response. Default none (0), so that
	// streaming responses work.
	WriteTimeout time.Duration

	// IdleTimeout bounds how long a keep-alive connection waits for its
	// next request. Default 120s; negative disables it.
	IdleTimeout time.Duration

	// MaxHeaderBytes bounds the size of request headers. Default 64 KiB.
	MaxHeaderBytes int

	// ShutdownTimeout bounds the whole graceful shutdown, DrainDelay
	// included, once the context passed to Run is cancelled. Default 30s.
	ShutdownTimeout time.Duration

	// DrainDelay is how long the server keeps accepting and serving after
	// shutdown begins while /readyz already answers 503, so that load
	// balancers (or Kubernetes endpoints) stop sending traffic before the
	// listener closes. Default 0.
	DrainDelay time.Duration

	// DrainIdleTimeout is how long, once the listener is closed, a
	// connection that carries no request (an idle keep-alive connection,
	// or one accepted whose request has not arrived) is given to send one
	// last request, answered with "Connection: close", before it is
	// closed. Default 1s.
	DrainIdleTimeout time.Duration

	// HealthPath is the liveness endpoint: 200 while the process serves.
	// Default "/healthz".
	HealthPath string

	// ReadyPath is the readiness endpoint: 200 when every check in Checks
	// passes, 503 naming the failing checks, or while shutting down.
	// Default "/readyz".
	ReadyPath string

	// DisableHealth turns off both health endpoints. Default false.
	DisableHealth bool

	// Checks are the readiness checks run by ReadyPath, e.g. a database
	// ping. They also gate READY=1 to systemd. Default: none.
	Checks []Check

	// Maintenance, when set, switches the server into maintenance mode
	// while it is on (see [Maintenance]); the health endpoints are not
	// affected. Default nil: never in maintenance.
	Maintenance *Maintenance

	// DisableRequestID turns off the request ID middleware ([RequestID]).
	// Default false.
	DisableRequestID bool

	// DisableRecover turns off the panic recovery middleware ([Recover]).
	// Default false.
	DisableRecover bool

	// DisableAccessLog turns off the access log ([AccessLog]). Default
	// false.
	DisableAccessLog bool

	// ConfigureHTTP, when set, is called with the http.Server after the
	// options above are applied and before serving, for settings these
	// options do not cover (ConnContext, Protocols, ...). It must not
	// replace ConnState or Handler. Default nil.
	ConfigureHTTP func(*http.Server)
}

// Defaults applied by [New] to zero fields of [Options].
const (
	DefaultAddr              = ":4000"
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultDrainIdleTimeout  = time.Second
	DefaultHealthPath        = "/healthz"
	DefaultReadyPath         = "/readyz"
	DefaultCheckTimeout      = 5 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.ReadHeaderTimeout == 0 {
		o.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxHeaderBytes == 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.DrainIdleTimeout == 0 {
		o.DrainIdleTimeout = DefaultDrainIdleTimeout
	}
	if o.HealthPath == "" {
		o.HealthPath = DefaultHealthPath
	}
	if o.ReadyPath == "" {
		o.ReadyPath = DefaultReadyPath
	}
	if o.Logger == nil {
		o.Logger = discard
	}
	checks := make([]Check, len(o.Checks))
	for i, c := range o.Checks {
		if c.Timeout == 0 {
			c.Timeout = DefaultCheckTimeout
		}
		checks[i] = c
	}
	o.Checks = checks
	return o
}
