package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relkit/relkit/internal/handover"
)

// Server serves one handler. Create it with [New] and run it with
// [Server.Run].
type Server struct {
	opts    Options
	handler http.Handler

	health   *health
	closing  atomic.Bool // listeners closed: answer with Connection: close
	ready    chan struct{}
	runCalls atomic.Int32

	mu    sync.Mutex
	addrs []net.Addr

	counters counters // see Stats

	// testConnState, when set by a test, sees every connection state
	// change after the server's own tracking.
	testConnState func(net.Conn, http.ConnState)
}

// New returns a Server for h configured by opts.
func New(h http.Handler, opts Options) *Server {
	o := opts.withDefaults()
	return &Server{
		opts:    o,
		handler: h,
		health:  &health{checks: o.Checks, log: o.Logger},
		ready:   make(chan struct{}),
	}
}

// Ready is closed once the server accepts connections.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr returns the address the server listens on (the first one, when it
// serves several listeners), or nil before Ready.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.addrs) == 0 {
		return nil
	}
	return s.addrs[0]
}

// Handler returns the handler the server serves: the one given to [New]
// behind the health endpoints and the middleware enabled in [Options].
func (s *Server) Handler() http.Handler {
	o := s.opts
	h := s.handler
	if o.Maintenance != nil {
		h = o.Maintenance.wrap(h)
	}
	var quiet []string
	if !o.DisableHealth {
		next := h
		live, ready := o.HealthPath, o.ReadyPath
		quiet = []string{live, ready}
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case live:
				s.health.serveLive(w, r)
			case ready:
				s.health.serveReady(w, r)
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
	c := &chain{next: h, requestID: !o.DisableRequestID}
	if !o.DisableRecover {
		c.recover = o.Logger
	}
	if !o.DisableAccessLog {
		c.access = newAccessLogger(o.Logger, quiet)
	}
	if c.requestID || c.recover != nil || c.access != nil {
		h = c
	}
	inner := h
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.closing.Load() {
			// The listener is closed: this connection's client must go
			// elsewhere for its next request.
			w.Header().Set("Connection", "close")
		}
		s.counters.inFlight.Add(1)
		defer s.counters.inFlight.Add(-1)
		inner.ServeHTTP(w, r)
		s.counters.served.Add(1)
	})
}

// Run serves until ctx is cancelled, then drains and returns. It returns
// nil after a clean shutdown, [ErrShutdownTimeout] when connections had to
// be cut off, or an error when it could not listen or serve.
//
// The listeners are, in order of precedence: Options.Listener and
// Options.Listeners; the sockets handed over through Options.Env (the one
// named "http", or the only one); a new TCP listener on Options.Addr.
//
// Shutdown, bounded as a whole by ShutdownTimeout:
//  1. /readyz answers 503 and systemd is told STOPPING=1;
//  2. the server keeps serving for DrainDelay;
//  3. the listeners close; every response from then on carries
//     "Connection: close";
//  4. connections carrying no request get DrainIdleTimeout to send one;
//  5. once every connection is closed, the http.Server shuts down.
//
// A Server runs once.
func (s *Server) Run(ctx context.Context) error {
	if s.runCalls.Add(1) != 1 {
		return errors.New("server: Run called twice; create a new Server with New")
	}
	o := s.opts
	if err := validateChecks(o.Checks); err != nil {
		return err
	}
	lns, err := s.listen()
	if err != nil {
		return err
	}
	conns := newConnTracker(o.DrainIdleTimeout, o.ReadTimeout)
	hs := &http.Server{
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    o.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if o.ConfigureHTTP != nil {
		o.ConfigureHTTP(hs)
	}
	hs.Handler = s.Handler()
	hs.ConnState = func(c net.Conn, st http.ConnState) { conns.hook(c, st); s.counters.connState(st) }
	if hook := s.testConnState; hook != nil {
		hs.ConnState = func(c net.Conn, st http.ConnState) { conns.hook(c, st); s.counters.connState(st); hook(c, st) }
	}

	addrs := make([]net.Addr, len(lns))
	names := make([]string, len(lns))
	for i, ln := range lns {
		addrs[i] = ln.Addr()
		names[i] = ln.Addr().String()
	}
	where := strings.Join(names, ", ")
	s.mu.Lock()
	s.addrs = addrs
	s.mu.Unlock()

	notify := newNotifier(o.Env, os.Getpid(), o.Name, o.Version, o.Logger)
	bg, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBg()
	go notify.keepAlive(bg)

	if o.ServeAfterReady {
		// Another process serves these sockets until this one is ready:
		// accept nothing before the checks pass.
		if len(o.Checks) > 0 {
			notify.waiting("waiting for readiness checks before serving")
			o.Logger.Info("waiting for readiness checks before serving", slog.String("addr", where))
		}
		if err := s.health.waitReady(ctx); err != nil {
			for _, ln := range lns {
				ln.Close()
			}
			o.Logger.Info("stopped before it was ready; it served no request")
			return nil
		}
	}

	serveErr := make(chan error, len(lns))
	var serving sync.WaitGroup
	for _, ln := range lns {
		serving.Add(1)
		go func() {
			defer serving.Done()
			serveErr <- hs.Serve(ln)
		}()
	}
	close(s.ready)
	o.Logger.Info("serving", slog.String("addr", where), slog.String("name", o.Name), slog.String("version", o.Version))

	if o.ServeAfterReady {
		notify.ready(where)
	} else {
		go func() {
			if len(o.Checks) > 0 {
				notify.waiting("waiting for readiness checks")
			}
			if s.health.waitReady(bg) == nil && !s.health.draining.Load() {
				notify.ready(where)
			}
		}()
	}

	select {
	case err := <-serveErr:
		// A listener failed on its own (it was closed under us).
		for _, ln := range lns {
			ln.Close()
		}
		hs.Close()
		serving.Wait()
		return fmt.Errorf("serve on %s: %w", where, err)
	case <-ctx.Done():
	}
	return s.drain(ctx, hs, lns, conns, &serving, notify)
}

func (s *Server) drain(ctx context.Context, hs *http.Server, lns []net.Listener, conns *connTracker, serving *sync.WaitGroup, notify *notifier) error {
	o := s.opts
	start := time.Now()
	expired := make(chan struct{})
	deadline := time.AfterFunc(o.ShutdownTimeout, func() { close(expired) })
	defer deadline.Stop()

	// 1. Not ready any more.
	s.health.draining.Store(true)
	notify.stopping()
	o.Logger.Info("draining", slog.Duration("drain_delay", o.DrainDelay), slog.Int("connections", conns.count()))

	// 2. Keep serving while load balancers notice.
	if o.DrainDelay > 0 {
		t := time.NewTimer(o.DrainDelay)
		select {
		case <-t.C:
		case <-expired:
			t.Stop()
		}
	}

	// 3. Stop accepting.
	s.closing.Store(true)
	conns.startDrain(time.Now())
	for _, ln := range lns {
		ln.Close()
	}
	serving.Wait() // every accepted connection is tracked from here on

	// 4. Wait for every connection, quiet ones included.
	allClosed := conns.waitClosed(expired)

	// 5. Shut down what is left of the http.Server.
	if !allClosed {
		n := conns.count()
		hs.Close()
		o.Logger.Warn("shutdown timeout: closed connections still open",
			slog.Int("connections", n), slog.Duration("shutdown_timeout", o.ShutdownTimeout))
		return ErrShutdownTimeout
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(o.ShutdownTimeout-time.Since(start), time.Millisecond))
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
		return ErrShutdownTimeout
	}
	o.Logger.Info("stopped", slog.Duration("drain", time.Since(start).Round(time.Millisecond)))
	return nil
}

// listen returns the listeners to serve, in the precedence documented on
// Run.
func (s *Server) listen() ([]net.Listener, error) {
	o := s.opts
	var lns []net.Listener
	if o.Listener != nil {
		lns = append(lns, o.Listener)
	}
	lns = append(lns, o.Listeners...)
	if len(lns) > 0 {
		return lns, nil
	}
	ls, err := handover.Listen(o.Env, o.Addr)
	if err != nil {
		return nil, err
	}
	return pickHTTP(ls, o.Logger)
}
