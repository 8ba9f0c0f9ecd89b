// Package server serves an http.Handler the way an operator expects behind
// systemd, Docker, Kubernetes or a load balancer: safe timeouts, health
// endpoints, a drain that loses no request, systemd socket activation and
// notification, and request IDs, panic recovery and an access log.
//
// It is usable on its own; the release package wires it to PORT,
// DRAIN_DELAY, SHUTDOWN_TIMEOUT and the process environment.
//
//	s := server.New(mux, server.Options{
//		Addr:   ":4000",
//		Env:    env, // the process environment, as a map
//		Logger: logger,
//		Checks: []server.Check{{Name: "db", Func: db.PingContext}},
//	})
//	err := s.Run(ctx) // until ctx is cancelled (SIGTERM), then drain
//
// The central types are [Server], configured by [Options], and [Check] for
// readiness. [RequestID], [Recover] and [AccessLog] are the middleware
// [Server] applies by default, usable alone. [InheritedListeners] takes
// the listening sockets a parent (systemd or relkit's supervisor) handed
// this process. Static assets with digested names are in the
// sub-package [github.com/relkit/relkit/server/assets].
//
// # Listeners
//
// A Server serves, in order of precedence: Options.Listener(s); the sockets
// a parent handed over, found in Options.Env (RELKIT_LISTEN_FDS from
// relkit's own supervisor, or systemd's LISTEN_FDS when LISTEN_PID is this
// process); a new listener on Options.Addr. Of several handed-over sockets,
// the ones named "http" are served.
//
// # Health
//
// GET /healthz answers 200 while the process serves (liveness). GET /readyz
// runs the readiness checks concurrently, each within its timeout, and
// answers 200, or 503 naming the failed checks ("not ready: db"); the
// checks' errors go to the log, never to the response. Both answer 503
// "not ready: draining" once shutdown begins. Probes are logged at debug
// level only.
//
// # Middleware
//
// [RequestID], [AccessLog] and [Recover], in that order from the outside
// in, run as one handler: a request costs two allocations (the ID's
// context, which handlers read with [RequestIDFrom], kept apart so that a
// context kept after the request keeps only itself alive; and the copy of
// the request carrying it, with the status writer) whatever is switched
// on.
//
// The access log writes one line per request at info level (health probes
// at debug): method, path without the query, status, bytes, duration in
// nanoseconds, request_id, and aborted:true when the handler panicked out.
// When the logger's handler is the release's JSON handler off a terminal
// (internal/logbuf's NewJSONHandler, which can vouch that it writes exactly
// what slog's JSON handler writes, its With attributes included), the
// access log encodes the line itself into a pooled buffer, byte for byte
// the same, in a third of the instructions. Any other handler (tint on a
// terminal, an app's own) gets a slog.Record, built without a caller
// lookup: a handler with AddSource sees the access log as its source.
//
// # Drain
//
// When the context passed to Run is cancelled: /readyz turns 503 and
// systemd is told STOPPING=1; the server keeps serving for DrainDelay;
// the listeners close; every later response carries "Connection: close";
// connections with no request in flight (idle keep-alive, or accepted but
// not yet sent) get DrainIdleTimeout to send one; when every connection is
// closed the http.Server shuts down. ShutdownTimeout bounds it all, after
// which remaining connections are cut and Run returns [ErrShutdownTimeout].
//
// This avoids the two ways http.Server.Shutdown alone drops requests: it
// closes idle keep-alive connections at once, racing a client that is
// sending its next request (a POST is not retried by clients), and after it
// is called a connection that reads a request closes without answering.
// One race remains in HTTP/1.1 itself: a client that sends a request at
// the very moment its idle connection's DrainIdleTimeout expires loses it,
// exactly as with an ordinary keep-alive timeout. Hijacked connections
// (WebSockets) are the handler's to close; the drain does not wait for
// them.
//
// # systemd
//
// With NOTIFY_SOCKET in Options.Env, the server sends READY=1 and
// STATUS="NAME VERSION: serving on ADDR" once it serves and every readiness
// check has passed once, STOPPING=1 when the drain begins, and WATCHDOG=1
// at half of WATCHDOG_USEC when systemd's watchdog is on. A unit:
//
//	[Unit]
//	Requires=myapp.socket
//
//	[Service]
//	Type=notify
//	ExecStart=/srv/myapp/bin/myapp start
//	WatchdogSec=30s
//	TimeoutStopSec=40s   # above SHUTDOWN_TIMEOUT (30s by default)
//
//	# myapp.socket
//	[Socket]
//	ListenStream=80
//	FileDescriptorName=http
//
// With socket activation, systemd holds the socket across restarts, so
// connections queue in its backlog instead of being refused while the
// service restarts.
//
// Why not github.com/coreos/go-systemd/v22: its daemon.SdNotify,
// daemon.SdWatchdogEnabled and activation.Files read NOTIFY_SOCKET,
// WATCHDOG_USEC, WATCHDOG_PID and LISTEN_* with os.Getenv (and can only
// clear them with os.Unsetenv). relkit's library code never reads the
// process environment, so that tests are hermetic and a supervisor can give
// each child its own values; the protocol is a datagram of KEY=VALUE lines
// and a few integers, which internal/sdnotify and this package implement in
// about a hundred lines without a dependency.
//
// # Sockets handed over by relkit's supervisor
//
// relkit's supervisor puts its listeners at fds 3, 4, ... of each
// generation of the app and sets RELKIT_LISTEN_FDS and
// RELKIT_LISTEN_FDNAMES; the generation's Server (or [InheritedListeners])
// picks them up. The hand-over itself lives in relkit's internal handover
// package, shared by the supervisor, daemon and this package.
package server
