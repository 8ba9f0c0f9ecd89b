// Package handover starts a process with listening sockets handed over to
// it, the way systemd socket activation does, without ever putting the
// shared sockets into blocking mode.
//
// The sockets become the child's file descriptors 3, 4, … in order, and the
// child's environment says how many there are and what they are called:
//
//	RELKIT_LISTEN_FDS=1
//	RELKIT_LISTEN_FDNAMES=http
//
// These mirror systemd's LISTEN_FDS and LISTEN_FDNAMES. systemd also sets
// LISTEN_PID to the child's PID, which a parent using fork+exec cannot know
// before the exec; relkit's own variables therefore carry no PID, and any
// LISTEN_* variables the parent inherited are removed from the child's
// environment so they cannot be mistaken for its own. [Inherit] reads
// either set.
//
// # Why not os/exec
//
// A listening socket shares its open file description, and with it the
// O_NONBLOCK flag, between every process that holds it. The usual route,
// (*net.TCPListener).File() plus exec.Cmd.ExtraFiles, calls (*os.File).Fd
// on a file that net marked for blocking mode, which switches the shared
// socket to blocking: the parent's Accept then blocks a thread and Close
// no longer interrupts it (golang/go#24942). [Start] instead duplicates the
// raw descriptors through SyscallConn().Control, with close-on-exec set,
// and starts the child with syscall.ForkExec, which only dup2()s them into
// place in the child.
package handover
