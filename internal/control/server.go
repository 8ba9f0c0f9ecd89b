package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"
)

// Cred are the credentials of the process at the other end of a connection.
type Cred struct {
	PID, UID, GID int
	// Known is false where the system cannot tell (no SO_PEERCRED).
	Known bool
}

// Handler answers control requests. ServeControl may send output and events
// through s before it returns the final [Result]. ctx is cancelled when the
// client disconnects or the server shuts down.
type Handler interface {
	ServeControl(ctx context.Context, req Request, s *Stream) Result
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(ctx context.Context, req Request, s *Stream) Result

// ServeControl calls f.
func (f HandlerFunc) ServeControl(ctx context.Context, req Request, s *Stream) Result {
	return f(ctx, req, s)
}

// Timeouts of a [Server].
const (
	// RequestTimeout bounds reading a request once connected.
	RequestTimeout = 10 * time.Second
	// WriteTimeout bounds sending one message to a client that stopped
	// reading.
	WriteTimeout = 30 * time.Second
	// MaxRequest bounds the size of a request line, its newline
	// included: 1 MiB. [Client.Do] refuses a larger request before
	// sending it.
	MaxRequest = 1 << 20
	// chunk bounds the output carried by one message.
	chunk = 64 << 10
)

// Server serves the control protocol on Unix sockets. Set Handler, then call
// [Server.Serve]; stop with [Server.Shutdown].
type Server struct {
	// Handler answers requests. Required.
	Handler Handler
	// Logger receives refused peers and bad requests. Default: discarded.
	Logger *slog.Logger

	once   sync.Once
	uid    int
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool
}

func (s *Server) init() {
	s.once.Do(func() {
		s.uid = os.Geteuid()
		s.ctx, s.cancel = context.WithCancel(context.Background())
		s.conns = map[net.Conn]struct{}{}
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
	})
}

// Serve accepts connections on ln until [Server.Shutdown], and returns nil
// then. Peers whose uid is neither the server process's effective uid nor
// root are refused.
func (s *Server) Serve(ln *net.UnixListener) error {
	s.init()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.ln = ln
	s.mu.Unlock()
	var delay time.Duration
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			// EMFILE and friends: back off rather than spin.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.Logger.Warn("control: accept failed; retrying", "err", err, "delay", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Shutdown stops accepting connections (removing the socket file), waits
// for requests in progress until ctx is done, then cancels them and closes
// their connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	s.closed = true
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return err
	case <-ctx.Done():
	}
	// Cut the connections before cancelling the handlers, so that a
	// request cut off by the timeout never gets a result written after
	// the fact: its client sees the connection closed.
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	return ctx.Err()
}

func (s *Server) serveConn(c *net.UnixConn) {
	defer c.Close()
	st := &Stream{conn: c, enc: json.NewEncoder(c)}
	cred, err := peerCred(c)
	if err != nil {
		s.Logger.Warn("control: cannot read peer credentials; refusing", "err", err)
		st.finish(Fail(1, "%s: the server cannot verify who you are (%v)", ErrPeerRefused, err))
		return
	}
	st.peer = cred
	if cred.Known && cred.UID != s.uid && cred.UID != 0 {
		s.Logger.Warn("control: refused a connection from another user", "uid", cred.UID, "pid", cred.PID)
		st.finish(Fail(1, "%s: uid %d may not use this control socket (only uid %d, which runs the release, or root)", ErrPeerRefused, cred.UID, s.uid))
		drain(c)
		return
	}

	c.SetReadDeadline(time.Now().Add(RequestTimeout))
	br := bufio.NewReaderSize(io.LimitReader(c, MaxRequest), 4096)
	line, err := br.ReadBytes('\n')
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) && len(line) == 0:
		return // connected and left: a liveness probe
	case errors.Is(err, io.EOF) && len(line) == MaxRequest:
		s.Logger.Warn("control: request over the limit", "limit", MaxRequest, "pid", cred.PID)
		st.finish(Fail(64, "bad request: longer than the control socket's limit of 1 MiB (%d bytes)", MaxRequest))
		drain(c)
		return
	default:
		s.Logger.Warn("control: bad request", "err", err, "pid", cred.PID)
		st.finish(Fail(64, "bad request: %v (want one JSON object on a line ending in a newline)", err))
		return
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		st.finish(Fail(64, "bad request: %v (want one JSON object per line)", err))
		return
	}
	if req.V < 1 || req.V > Version {
		st.finish(Fail(64, "protocol version %d is not supported: this system speaks version %d (use the binary of the running release)", req.V, Version))
		return
	}
	c.SetReadDeadline(time.Time{})

	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() {
		// The client sends nothing after its request: any read returning
		// means it hung up (or the server closed the connection).
		var b [1]byte
		br.Read(b[:])
		cancel()
	}()
	st.finish(s.call(ctx, req, st))
}

// drain reads what a refused client sent, so that closing the connection
// with unread data does not reset it before the client reads the refusal.
func drain(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, io.LimitReader(c, MaxRequest))
}

func (s *Server) call(ctx context.Context, req Request, st *Stream) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			s.Logger.Error("control: handler panicked", "op", req.Op, "panic", p, "stack", string(debug.Stack()))
			res = Fail(1, "internal error while answering %q: %v", req.Op, p)
		}
	}()
	return s.Handler.ServeControl(ctx, req, st)
}

// Stream sends a handler's output and events to its client. Its methods are
// safe for concurrent use.
type Stream struct {
	conn net.Conn
	peer Cred

	mu   sync.Mutex
	enc  *json.Encoder
	err  error
	done bool
}

// Peer returns the client's credentials.
func (s *Stream) Peer() Cred { return s.peer }

// Stdout returns a writer whose writes reach the client's standard output.
func (s *Stream) Stdout() io.Writer { return streamWriter{s, false} }

// Stderr returns a writer whose writes reach the client's standard error.
func (s *Stream) Stderr() io.Writer { return streamWriter{s, true} }

// Event sends a progress event such as "stopping".
func (s *Stream) Event(name string) error { return s.Send(Message{Event: name}) }

// Send relays a message as is (a proxy forwarding another server's answer
// uses it). A message carrying Done is refused: the handler returns its
// result instead.
func (s *Stream) Send(m Message) error {
	if m.Done != nil {
		return errors.New("control: Stream.Send: return the result from the handler instead of sending Done")
	}
	return s.send(m)
}

func (s *Stream) send(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.done {
		return errors.New("control: the answer is already complete")
	}
	m.V = Version
	s.conn.SetWriteDeadline(time.Now().Add(WriteTimeout))
	if err := s.enc.Encode(m); err != nil {
		s.err = fmt.Errorf("control: send to client: %w", err)
		return s.err
	}
	return nil
}

func (s *Stream) finish(r Result) {
	s.send(Message{Done: &r})
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
}

type streamWriter struct {
	s      *Stream
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		b := p[:min(len(p), chunk)]
		m := Message{Stdout: b}
		if w.stderr {
			m = Message{Stderr: b}
		}
		if err := w.s.send(m); err != nil {
			return n, err
		}
		n += len(b)
		p = p[len(b):]
	}
	return n, nil
}
