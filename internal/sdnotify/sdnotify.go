// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)): newline-separated KEY=VALUE assignments in one datagram
// sent to the unixgram socket named by NOTIFY_SOCKET.
//
// relkit uses it both ways: a release tells systemd (or relkit's own
// supervisor) READY=1, STOPPING=1, STATUS=... and WATCHDOG=1; the supervisor
// receives the same messages from the release it spawned.
//
// The socket path is always passed in: nothing here reads the process
// environment.
package sdnotify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Common states, as defined by sd_notify(3).
const (
	Ready     = "READY=1"
	Stopping  = "STOPPING=1"
	Reloading = "RELOADING=1"
	Watchdog  = "WATCHDOG=1"
)

// Send sends state to the notification socket at path. An empty path means
// no notification socket was given, and Send does nothing. A path starting
// with "@" names a socket in the abstract namespace.
func Send(path string, state ...string) error {
	if path == "" {
		return nil
	}
	addr := &net.UnixAddr{Name: socketName(path), Net: "unixgram"}
	conn, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return fmt.Errorf("sd_notify: connect to NOTIFY_SOCKET %s: %w", path, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(state, "\n"))); err != nil {
		return fmt.Errorf("sd_notify: send to NOTIFY_SOCKET %s: %w", path, err)
	}
	return nil
}

func socketName(path string) string {
	if strings.HasPrefix(path, "@") {
		return "\x00" + path[1:]
	}
	return path
}

// Receiver is the receiving end of the protocol: what systemd is to a
// service, and relkit's supervisor is to the release it spawns.
type Receiver struct {
	conn *net.UnixConn
	path string
}

// Listen creates a notification socket at path (removing a stale socket
// file first) readable only by its owner.
func Listen(path string) (*Receiver, error) {
	if !strings.HasPrefix(path, "@") {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("sd_notify: remove stale socket %s: %w", path, err)
		}
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: socketName(path), Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("sd_notify: listen on %s: %w", path, err)
	}
	if !strings.HasPrefix(path, "@") {
		if err := os.Chmod(path, 0o600); err != nil {
			conn.Close()
			return nil, fmt.Errorf("sd_notify: chmod %s: %w", path, err)
		}
	}
	return &Receiver{conn: conn, path: path}, nil
}

// Path is the value to put in NOTIFY_SOCKET for the notifying process.
func (r *Receiver) Path() string { return r.path }

// Receive waits for the next message and returns its assignments in order.
// It returns ctx.Err() when ctx is done first. Receive is not meant to be
// called concurrently.
func (r *Receiver) Receive(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Wake the blocked read when ctx is done, instead of polling.
	woken := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		r.conn.SetReadDeadline(time.Unix(1, 0))
		close(woken)
	})
	defer func() {
		if !stop() {
			// The deadline was moved: wait until it is, then clear
			// it so that the next Receive starts clean.
			<-woken
			r.conn.SetReadDeadline(time.Time{})
		}
	}()
	buf := make([]byte, maxMessage)
	n, err := r.conn.Read(buf)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("sd_notify: receive on %s: %w", r.path, err)
	}
	var out []string
	for _, line := range strings.Split(string(buf[:n]), "\n") {
		if line != "" {
			out = append(out, line)
		}
	}
	return out, nil
}

// maxMessage bounds one notification; systemd accepts messages up to
// PIPE_BUF-sized status texts, far below this.
const maxMessage = 64 << 10

// Close closes the socket and removes its file.
func (r *Receiver) Close() error {
	err := r.conn.Close()
	if !strings.HasPrefix(r.path, "@") {
		os.Remove(r.path)
	}
	return err
}
