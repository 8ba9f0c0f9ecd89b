package handover

import "errors"

// ErrListenEnv reports handed-over sockets that cannot be used: a malformed
// LISTEN_FDS/RELKIT_LISTEN_FDS or LISTEN_FDNAMES, or a descriptor that is
// not a listening stream socket.
var ErrListenEnv = errors.New("unusable inherited listeners")

// ErrTaken is returned by [Inherited] when it is called a second time in a
// process: the handed-over descriptors were already taken.
var ErrTaken = errors.New("inherited listeners were already taken by an earlier call; take them once and pass them on")
