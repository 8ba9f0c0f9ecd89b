// Package server serves an http.Handler with production timeouts and shuts it
// down gracefully when its context is cancelled.
//
// It is usable on its own; the release package wires it to PORT, SERVER and
// SHUTDOWN_TIMEOUT.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Options configures a [Server]. The zero value serves on ":4000" with the
// defaults documented on each field.
type Options struct {
	// Addr is the TCP address to listen on when Listener is nil.
	// Default ":4000".
	Addr string

	// Listener, when set, is served instead of listening on Addr. The server
	// closes it on shutdown.
	Listener net.Listener

	// ReadHeaderTimeout bounds reading a request's headers (slowloris).
	// Default 10s.
	ReadHeaderTimeout time.Duration

	// IdleTimeout bounds how long a keep-alive connection waits for its next
	// request. Default 120s.
	IdleTimeout time.Duration

	// MaxHeaderBytes bounds the size of request headers. Default 64 KiB.
	MaxHeaderBytes int

	// ShutdownTimeout bounds the graceful shutdown once the context passed to
	// Run is cancelled. Default 30s.
	ShutdownTimeout time.Duration

	// Logger receives the server's own messages. Default: discarded.
	Logger *slog.Logger
}

// Defaults applied by [New] to zero fields of [Options].
const (
	DefaultAddr              = ":4000"
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultShutdownTimeout   = 30 * time.Second
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
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// Server serves one handler. Create it with [New] and run it with
// [Server.Run].
type Server struct {
	opts    Options
	handler http.Handler

	mu    sync.Mutex
	addr  net.Addr
	ready chan struct{}
}

// New returns a Server for h configured by opts.
func New(h http.Handler, opts Options) *Server {
	return &Server{opts: opts.withDefaults(), handler: h, ready: make(chan struct{})}
}

// Ready is closed once the server accepts connections.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr returns the address the server listens on, or nil before Ready.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// ErrShutdownTimeout is returned by [Server.Run] when requests were still in
// flight when ShutdownTimeout ran out; those connections were closed.
var ErrShutdownTimeout = errors.New("server: shutdown timeout exceeded; in-flight requests were cut off (raise SHUTDOWN_TIMEOUT to give them longer)")

// Run listens and serves until ctx is cancelled, then stops accepting, lets
// in-flight requests finish within ShutdownTimeout and returns. It returns
// nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	ln := s.opts.Listener
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", s.opts.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w (is another process using the port? set PORT to another one)", s.opts.Addr, err)
		}
	}
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    s.opts.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.mu.Lock()
	s.addr = ln.Addr()
	s.mu.Unlock()
	close(s.ready)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-errc
	if errors.Is(err, context.DeadlineExceeded) {
		hs.Close()
		return ErrShutdownTimeout
	}
	return err
}
