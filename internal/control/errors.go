package control

import "errors"

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
