package control

import (
	"errors"
	"fmt"
	"path/filepath"
)

// ErrNotRunning is returned by [Dial] when nothing answers on the control
// socket: no socket file, or a stale one nobody listens on.
var ErrNotRunning = errors.New("not running: nothing answers on the control socket")

// ErrRunning is returned by [Listen] when a live server already answers on
// the socket path.
var ErrRunning = errors.New("already running: another process answers on the control socket")

// ErrClosed is returned by [Client.Do] when the connection closed before the
// final answer: the server process exited or dropped the request.
var ErrClosed = errors.New("control connection closed before the answer (did the running system exit?)")

// ErrPeerRefused is the error a server answers to a peer of another uid.
var ErrPeerRefused = errors.New("permission denied")

// ErrUntrustedPeer is matched by the *[PeerError] [Dial] returns when the
// process serving the socket runs as neither the client's user nor root.
var ErrUntrustedPeer = errors.New("the control socket is served by another user")

// PeerError is returned by [Dial] for a socket served by a process whose
// uid (as the kernel reports it, SO_PEERCRED) is neither the client's
// effective uid nor root. Whoever else serves it may have replaced the
// release's socket to fake answers (a "stopped" that stopped nothing) or
// to collect requests, so no request is sent.
type PeerError struct {
	// Path is the socket.
	Path string
	// UID and PID are the serving process's; Owner is the uid's name, ""
	// when unknown.
	UID, PID int
	Owner    string
	// Self is the client's effective uid.
	Self int
}

func (e *PeerError) Error() string {
	return fmt.Sprintf("control socket %s is served by %s, pid %d, neither yours (uid %d) nor root: refusing to send it anything or trust its answer, since another user may have replaced the release's socket. Check who owns %s and what is in it (ls -la %s) and which program pid %d is; the release's own RELEASE_TMP must be writable by nobody but its user",
		e.Path, who(e.UID, e.Owner), e.PID, e.Self, filepath.Dir(e.Path), filepath.Dir(e.Path), e.PID)
}

func (e *PeerError) Unwrap() error { return ErrUntrustedPeer }

// RequestTooLargeError is returned by [Client.Do] for a request whose
// encoding (with its newline) exceeds [MaxRequest]; it is not sent.
type RequestTooLargeError struct {
	// Op is the request's op.
	Op Op
	// Size is the encoded request's size and Limit [MaxRequest], in bytes.
	Size, Limit int
}

func (e *RequestTooLargeError) Error() string {
	return fmt.Sprintf("%s request is %d bytes, over the control socket's limit of 1 MiB (%d bytes): pass large input through a file or the database instead of arguments", e.Op, e.Size, e.Limit)
}

// PathTooLongError is returned by [CheckSocketPath] and [Listen] for a
// socket path the kernel cannot bind.
type PathTooLongError struct {
	// Path is the socket path, Len its length in bytes.
	Path string
	Len  int
}

func (e *PathTooLongError) Error() string {
	return fmt.Sprintf("control socket path %s is %d bytes, over the %d bytes a Unix socket path may have (108 bytes with its terminating NUL): set RELEASE_TMP to a directory at least %d bytes shorter", e.Path, e.Len, MaxPath, e.Len-MaxPath)
}
