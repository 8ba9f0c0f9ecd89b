package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// Client is one connection to a control socket, for one request.
type Client struct {
	conn *net.UnixConn
	peer Cred
	path string
}

// Dial connects to the control socket at path. It fails with an error
// matching [ErrNotRunning] when no socket exists or nobody listens on it,
// and with a *[PeerError] when the process that serves it runs as neither
// the caller's effective uid nor root (read with SO_PEERCRED; where the
// system cannot tell, only the socket's permissions protect it).
func Dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w (%s)", ErrNotRunning, path)
		}
		return nil, fmt.Errorf("connect to control socket %s: %w", path, err)
	}
	uc := c.(*net.UnixConn)
	cred, err := peerCred(uc)
	if err != nil {
		uc.Close()
		return nil, fmt.Errorf("control socket %s: read peer credentials: %w", path, err)
	}
	if self := os.Geteuid(); cred.Known && cred.UID != self && cred.UID != 0 {
		uc.Close()
		return nil, &PeerError{Path: path, UID: cred.UID, PID: cred.PID, Owner: userName(cred.UID), Self: self}
	}
	return &Client{conn: uc, peer: cred, path: path}, nil
}

// Peer returns the credentials of the process that accepted the
// connection, as the kernel recorded them: its PID is the running system's,
// whatever any PID file says.
func (c *Client) Peer() Cred { return c.peer }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Output receives what a server sends before its result. Nil fields
// discard.
type Output struct {
	Stdout, Stderr io.Writer
	// Event is called with each progress event, e.g. "stopping".
	Event func(name string)
}

// Do sends req and reads the answer until the result, writing output to out.
// It returns the server's result with a nil error whenever the server
// answered, even with a failure status (see [Result.Err]); a non-nil error
// means the exchange itself failed: [ErrClosed] when the connection closed
// before the result, a *[RequestTooLargeError] (nothing sent) for a request
// over [MaxRequest]. Cancelling ctx closes the connection, which cancels the
// request on the server.
//
// Text the server sends (the result's Error, Version and Info strings, and
// events) is passed through [EscapeText], so it can be printed safely. The
// output of an rpc task reaches out.Stdout and out.Stderr as the bytes the
// task wrote, colours included: [Dial] has checked that the server runs as
// the caller's user or root.
func (c *Client) Do(ctx context.Context, req Request, out Output) (Result, error) {
	if req.V == 0 {
		req.V = Version
	}
	stop := context.AfterFunc(ctx, func() { c.conn.Close() })
	defer stop()
	b, err := json.Marshal(req)
	if err != nil {
		return Result{}, err
	}
	if len(b)+1 > MaxRequest {
		return Result{}, &RequestTooLargeError{Op: req.Op, Size: len(b) + 1, Limit: MaxRequest}
	}
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		return Result{}, c.ctxErr(ctx, fmt.Errorf("send request to %s: %w", c.path, err))
	}
	br := bufio.NewReaderSize(c.conn, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				return Result{}, c.ctxErr(ctx, ErrClosed)
			}
			return Result{}, c.ctxErr(ctx, fmt.Errorf("read answer from %s: %w", c.path, err))
		}
		var m Message
		if err := json.Unmarshal(line, &m); err != nil {
			return Result{}, fmt.Errorf("bad answer from %s: %w", c.path, err)
		}
		switch {
		case m.Done != nil:
			escapeResult(m.Done)
			return *m.Done, nil
		case m.Stdout != nil && out.Stdout != nil:
			if _, err := out.Stdout.Write(m.Stdout); err != nil {
				return Result{}, err
			}
		case m.Stderr != nil && out.Stderr != nil:
			if _, err := out.Stderr.Write(m.Stderr); err != nil {
				return Result{}, err
			}
		case m.Event != "" && out.Event != nil:
			out.Event(EscapeText(m.Event))
		}
	}
}

func (c *Client) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Call dials path, sends req and returns the result, like [Client.Do].
func Call(ctx context.Context, path string, req Request, out Output) (Result, error) {
	c, err := Dial(ctx, path)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	return c.Do(ctx, req, out)
}

// Ping asks the system on the control socket at path who it is. It checks
// that the answer names the process the kernel says answered, so the PID it
// returns is the running system's own.
func Ping(ctx context.Context, path string) (Info, error) {
	c, err := Dial(ctx, path)
	if err != nil {
		return Info{}, err
	}
	defer c.Close()
	res, err := c.Do(ctx, Request{Op: OpPing}, Output{})
	if err != nil {
		return Info{}, err
	}
	if err := res.Err(); err != nil {
		return Info{}, fmt.Errorf("ping %s: %w", path, err)
	}
	if res.Info == nil {
		return Info{}, fmt.Errorf("ping %s: the answer carries no info", path)
	}
	if p := c.Peer(); p.Known && p.PID != res.Info.PID {
		return Info{}, fmt.Errorf("ping %s: the answer claims pid %d but the kernel says pid %d answered; refusing to trust it", path, res.Info.PID, p.PID)
	}
	return *res.Info, nil
}

// WaitClosed waits until the server closes the connection, which it does
// after its answer and, at the latest, when its process exits.
func (c *Client) WaitClosed(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { c.conn.Close() })
	defer stop()
	_, err := io.Copy(io.Discard, c.conn)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// userName returns the login name of uid, "" when it has none.
func userName(uid int) string {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return ""
	}
	return u.Username
}

func who(uid int, name string) string {
	if name == "" {
		return "uid " + strconv.Itoa(uid)
	}
	return fmt.Sprintf("%s (uid %d)", name, uid)
}
