package handover

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/relkit/relkit/internal/relspec"
)

// StartProcess starts the program at path, like [os.StartProcess], and
// hands it listeners as file descriptors 3, 4, ... in order, adding
// RELKIT_LISTEN_FDS and RELKIT_LISTEN_FDNAMES to its environment; the
// child's [Inherited] (and so its HTTP server) picks them up.
//
// attr.Files are the child's standard streams (at most three; a missing or
// nil entry becomes /dev/null). attr.Env is the child's complete
// environment: nil means an empty one, never the parent's. Any LISTEN_* or
// RELKIT_LISTEN_* entries in it are replaced. attr.Dir and attr.Sys are
// used as given.
//
// Every listener must implement [syscall.Conn] (all listeners from package
// net do). The sockets are shared, not moved: the parent keeps serving or
// closes its own listeners as it sees fit.
//
// Why not os/exec with ExtraFiles: (*net.TCPListener).File returns a file
// whose Fd method switches the shared socket to blocking mode, and
// os.StartProcess calls Fd on every file it passes (golang/go#24942) — the
// parent's accept loop then ties up a thread and the child inherits a
// blocking socket. StartProcess instead duplicates the raw descriptor
// through SyscallConn().Control and passes plain numbers to
// [syscall.ForkExec], so the O_NONBLOCK flag on the shared open file
// description is never touched.
func StartProcess(path string, argv []string, attr *os.ProcAttr, listeners []NamedListener) (*os.Process, error) {
	if attr == nil {
		attr = &os.ProcAttr{}
	}
	if len(attr.Files) > firstListenFD {
		return nil, fmt.Errorf("start %s: %d files given, want at most the 3 standard streams; pass sockets as listeners", path, len(attr.Files))
	}
	for _, l := range listeners {
		if strings.Contains(l.Name, ":") {
			return nil, fmt.Errorf("start %s: listener name %q contains ':', which separates names in %s; rename it", path, l.Name, relspec.EnvRelkitListenFDNames)
		}
	}

	// Every descriptor the child gets is a close-on-exec duplicate owned
	// here, so that closing or collecting the originals concurrently
	// cannot change what the child receives.
	var fds []int
	defer func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}()
	for i := range firstListenFD {
		var f *os.File
		if i < len(attr.Files) {
			f = attr.Files[i]
		}
		fd, err := dupStdio(f)
		if err != nil {
			return nil, fmt.Errorf("start %s: standard stream %d: %w", path, i, err)
		}
		fds = append(fds, fd)
	}
	names := make([]string, len(listeners))
	for i, l := range listeners {
		sc, ok := l.Listener.(syscall.Conn)
		if !ok {
			return nil, fmt.Errorf("start %s: listener %q (%T) has no file descriptor to hand over", path, l.Name, l.Listener)
		}
		fd, err := dupConn(sc)
		if err != nil {
			return nil, fmt.Errorf("start %s: duplicate listener %q: %w", path, l.Name, err)
		}
		fds = append(fds, fd)
		names[i] = l.Name
	}

	env := make([]string, 0, len(attr.Env)+2)
	for _, kv := range attr.Env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case relspec.EnvListenFDs, relspec.EnvListenPID, relspec.EnvListenFDNames, relspec.EnvRelkitListenFDs, relspec.EnvRelkitListenFDNames:
			continue
		}
		env = append(env, kv)
	}
	if len(listeners) > 0 {
		env = append(env,
			relspec.EnvRelkitListenFDs+"="+strconv.Itoa(len(listeners)),
			relspec.EnvRelkitListenFDNames+"="+strings.Join(names, ":"))
	}

	files := make([]uintptr, len(fds))
	for i, fd := range fds {
		files[i] = uintptr(fd)
	}
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Dir:   attr.Dir,
		Env:   env,
		Files: files,
		Sys:   attr.Sys,
	})
	if err != nil {
		return nil, &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	// The child is ours and not yet reaped, so its pid cannot have been
	// reused; on Linux FindProcess returns a pidfd-backed handle.
	return os.FindProcess(pid)
}

// dupStdio duplicates f's descriptor, or opens /dev/null for a nil f.
func dupStdio(f *os.File) (int, error) {
	if f == nil {
		return syscall.Open(os.DevNull, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	}
	return dupConn(f)
}

// dupConn returns a close-on-exec duplicate of c's descriptor without
// calling (*os.File).Fd, which could switch it to blocking mode.
func dupConn(c syscall.Conn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	nfd := -1
	var dupErr error
	err = rc.Control(func(fd uintptr) {
		nfd, dupErr = dupCloseOnExec(int(fd))
	})
	if err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, dupErr
	}
	if nfd < 0 {
		return -1, errors.New("descriptor is closed")
	}
	return nfd, nil
}

// dupCloseOnExec duplicates fd with FD_CLOEXEC set. Holding ForkLock for
// reading keeps a concurrent fork from inheriting the duplicate in the
// moment before the flag is set (the same scheme package net uses).
func dupCloseOnExec(fd int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	nfd, err := syscall.Dup(fd)
	if err != nil {
		return -1, os.NewSyscallError("dup", err)
	}
	syscall.CloseOnExec(nfd)
	return nfd, nil
}
