package server

import (
	"errors"

	"github.com/relkit/relkit/internal/handover"
)

// ErrShutdownTimeout is returned by [Server.Run] when connections were
// still open when ShutdownTimeout ran out; those connections were closed.
var ErrShutdownTimeout = errors.New("server: shutdown timeout exceeded; in-flight requests were cut off (raise SHUTDOWN_TIMEOUT to give them longer)")

// ErrListenEnv reports handed-over sockets that cannot be used: a malformed
// LISTEN_FDS/RELKIT_LISTEN_FDS or LISTEN_FDNAMES, or a descriptor that is
// not a listening stream socket.
var ErrListenEnv = handover.ErrListenEnv

// ErrListenersTaken is returned by [InheritedListeners] when it is called a
// second time in a process: the handed-over descriptors were already taken.
var ErrListenersTaken = handover.ErrTaken

// ErrNoHTTPListener is returned by [Server.Run] when several sockets were
// handed over and none is named "http".
var ErrNoHTTPListener = errors.New(`server: no inherited listener is named "http"`)
