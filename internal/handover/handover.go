package handover

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Environment variables set for a child by [Start] and read by [Inherit].
const (
	EnvFDs     = "RELKIT_LISTEN_FDS"
	EnvFDNames = "RELKIT_LISTEN_FDNAMES"
)

// FirstFD is the descriptor number of the first handed-over socket.
const FirstFD = 3

// File is a descriptor handed to a child: a *net.TCPListener,
// *net.UnixListener or *os.File, with its name for RELKIT_LISTEN_FDNAMES.
type File struct {
	Name string
	Conn syscall.Conn
}

// Attr describes the child [Start] creates.
type Attr struct {
	// Dir is the working directory. Default: the parent's.
	Dir string
	// Env is the child's environment as KEY=VALUE. LISTEN_* and
	// RELKIT_LISTEN_* entries are replaced by those describing Listeners.
	Env []string
	// Stdin, Stdout and Stderr become descriptors 0, 1 and 2. Nil: /dev/null.
	Stdin, Stdout, Stderr syscall.Conn
	// Listeners become descriptors 3, 4, … in order.
	Listeners []File
	// Sys holds further process attributes (Setsid, Setpgid, Pdeathsig…).
	// Its Files are ignored.
	Sys *syscall.SysProcAttr
}

// Start starts binary with argv (argv[0] included) and returns its PID. The
// caller must wait for the child (syscall.Wait4) to reap it.
func Start(binary string, argv []string, attr Attr) (int, error) {
	if len(attr.Listeners) > 0 {
		for _, l := range attr.Listeners {
			if l.Name == "" || strings.Contains(l.Name, ":") {
				return 0, fmt.Errorf("start %s: listener name %q: want a non-empty name without ':'", binary, l.Name)
			}
		}
	}
	var dups []int
	defer func() {
		for _, fd := range dups {
			syscall.Close(fd)
		}
	}()
	dup := func(c syscall.Conn) (uintptr, error) {
		if c == nil {
			f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
			if err != nil {
				return 0, err
			}
			defer f.Close()
			c = f
		}
		fd, err := dupCloexec(c)
		if err != nil {
			return 0, err
		}
		dups = append(dups, fd)
		return uintptr(fd), nil
	}
	files := make([]uintptr, 0, 3+len(attr.Listeners))
	for i, c := range []syscall.Conn{attr.Stdin, attr.Stdout, attr.Stderr} {
		fd, err := dup(c)
		if err != nil {
			return 0, fmt.Errorf("start %s: descriptor %d: %w", binary, i, err)
		}
		files = append(files, fd)
	}
	names := make([]string, len(attr.Listeners))
	for i, l := range attr.Listeners {
		if l.Conn == nil {
			return 0, fmt.Errorf("start %s: listener %q is nil", binary, l.Name)
		}
		fd, err := dup(l.Conn)
		if err != nil {
			return 0, fmt.Errorf("start %s: listener %q: %w", binary, l.Name, err)
		}
		files = append(files, fd)
		names[i] = l.Name
	}
	sys := &syscall.SysProcAttr{}
	if attr.Sys != nil {
		c := *attr.Sys
		sys = &c
	}
	pid, err := syscall.ForkExec(binary, argv, &syscall.ProcAttr{
		Dir:   attr.Dir,
		Env:   Env(attr.Env, names),
		Files: files,
		Sys:   sys,
	})
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", binary, err)
	}
	return pid, nil
}

// Env returns env without inherited socket-activation variables (LISTEN_PID,
// LISTEN_FDS, LISTEN_FDNAMES and relkit's own) and, when names is not empty,
// with RELKIT_LISTEN_FDS and RELKIT_LISTEN_FDNAMES describing names.
func Env(env []string, names []string) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", EnvFDs, EnvFDNames:
			continue
		}
		out = append(out, kv)
	}
	if len(names) > 0 {
		out = append(out, EnvFDs+"="+strconv.Itoa(len(names)), EnvFDNames+"="+strings.Join(names, ":"))
	}
	return out
}

// dupCloexec duplicates c's descriptor (close-on-exec, sharing the open
// file description) without changing its blocking mode.
func dupCloexec(c syscall.Conn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	if err := raw.Control(func(s uintptr) {
		var r uintptr
		var errno syscall.Errno
		r, _, errno = syscall.Syscall(syscall.SYS_FCNTL, s, syscall.F_DUPFD_CLOEXEC, 0)
		if errno != 0 {
			derr = errno
			return
		}
		fd = int(r)
	}); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, os.NewSyscallError("fcntl F_DUPFD_CLOEXEC", derr)
	}
	return fd, nil
}

// Listener is a listening socket received from a parent.
type Listener struct {
	Name string
	net.Listener
}

// Inherit returns the listening sockets passed to the process with the
// given pid: by systemd (LISTEN_FDS, with LISTEN_PID equal to pid) or by a
// relkit supervisor (RELKIT_LISTEN_FDS). Names come from LISTEN_FDNAMES or
// RELKIT_LISTEN_FDNAMES; a socket without a name is called "fdN". It returns
// nil when nothing was passed. The descriptors 3, 4, … are consumed: each is
// replaced by a close-on-exec duplicate inside its net.Listener.
func Inherit(env map[string]string, pid int) ([]Listener, error) {
	countVar, namesVar := EnvFDs, EnvFDNames
	if env[EnvFDs] == "" {
		countVar, namesVar = "LISTEN_FDS", "LISTEN_FDNAMES"
		if env["LISTEN_FDS"] == "" || env["LISTEN_PID"] != strconv.Itoa(pid) {
			return nil, nil // not for us (or nothing at all)
		}
	}
	n, err := strconv.Atoi(env[countVar])
	if err != nil || n < 0 || n > 1024 {
		return nil, fmt.Errorf("%s=%q: want the number of inherited sockets", countVar, env[countVar])
	}
	var names []string
	if v := env[namesVar]; v != "" {
		names = strings.Split(v, ":")
		if len(names) != n {
			return nil, fmt.Errorf("%s names %d sockets but %s=%d: fix the socket unit", namesVar, len(names), countVar, n)
		}
	}
	out := make([]Listener, 0, n)
	for i := range n {
		fd := FirstFD + i
		name := "fd" + strconv.Itoa(fd)
		if names != nil && names[i] != "" {
			name = names[i]
		}
		f := os.NewFile(uintptr(fd), name)
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			for _, l := range out {
				l.Close()
			}
			return nil, fmt.Errorf("inherited socket %d (%s): %w (pass listening stream sockets only)", fd, name, err)
		}
		out = append(out, Listener{Name: name, Listener: ln})
	}
	return out, nil
}

// Find returns the listener called name, or nil.
func Find(ls []Listener, name string) net.Listener {
	for _, l := range ls {
		if l.Name == name {
			return l.Listener
		}
	}
	return nil
}

// Nonblocking reports whether c's descriptor is in non-blocking mode.
func Nonblocking(c syscall.Conn) (bool, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return false, err
	}
	var nb bool
	var ferr error
	if err := raw.Control(func(fd uintptr) { nb, ferr = NonblockingFD(int(fd)) }); err != nil {
		return false, err
	}
	return nb, ferr
}

// NonblockingFD reports whether descriptor fd is in non-blocking mode. It
// works on the raw number: wrapping a descriptor in an *os.File just to ask
// would let the File's finalizer close it later, by then maybe another
// file's number.
func NonblockingFD(fd int) (bool, error) {
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if errno != 0 {
		return false, errors.New("fcntl F_GETFL: " + errno.Error())
	}
	return flags&syscall.O_NONBLOCK != 0, nil
}
