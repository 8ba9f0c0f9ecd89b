package handover

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/relkit/relkit/internal/relspec"
)

// HTTPListenerName is the name of the listener an HTTP server serves when
// a process is handed several: FileDescriptorName=http in a systemd .socket
// unit, or the Name of a [NamedListener] given to [StartProcess].
const HTTPListenerName = "http"

// firstListenFD is SD_LISTEN_FDS_START: handed-over sockets start at fd 3.
const firstListenFD = 3

// maxListenFDs bounds the count parsed from the environment so that a
// corrupt value cannot make us walk the whole fd table.
const maxListenFDs = 1024

// NamedListener is a listening socket with the name a parent process gave
// it (LISTEN_FDNAMES); the name is "" when the parent gave none.
type NamedListener struct {
	Name string
	net.Listener
}

// inheritedTaken guards the process-wide fds 3.. against being wrapped
// twice: after the first call they are closed and their numbers may have
// been reused for unrelated files.
var inheritedTaken atomic.Bool

// Inherited takes the listening sockets this process was handed,
// in fd order, as described by env: RELKIT_LISTEN_FDS/RELKIT_LISTEN_FDNAMES
// when set, else systemd's LISTEN_FDS/LISTEN_FDNAMES when LISTEN_PID is
// this process's pid. It returns nil, nil when nothing was handed over.
//
// The sockets keep their O_NONBLOCK flag, and the original descriptors
// 3, 4, ... are closed (the returned listeners hold close-on-exec
// duplicates), so a program this process starts does not inherit them by
// accident. Because of that, only the first call in a process takes
// them; later calls return [ErrTaken].
//
// env is the process environment as a map; Inherited never reads the
// environment itself.
func Inherited(env map[string]string) ([]NamedListener, error) {
	n, names, err := parseListenEnv(env, os.Getpid())
	if err != nil || n == 0 {
		return nil, err
	}
	if !inheritedTaken.CompareAndSwap(false, true) {
		return nil, ErrTaken
	}
	return listenersFromFDs(firstListenFD, n, names)
}

// parseListenEnv returns how many sockets were handed to the process with
// pid and their names (one per socket, "" when unnamed).
func parseListenEnv(env map[string]string, pid int) (int, []string, error) {
	countVar, namesVar := relspec.EnvRelkitListenFDs, relspec.EnvRelkitListenFDNames
	count, ok := env[countVar]
	if !ok {
		countVar, namesVar = relspec.EnvListenFDs, relspec.EnvListenFDNames
		count, ok = env[countVar]
		if !ok {
			return 0, nil, nil
		}
		// sd_listen_fds(3): the variables are meant for the process
		// whose pid LISTEN_PID names; anyone else ignores them (they were
		// inherited from a parent that was socket-activated).
		p, err := strconv.Atoi(env[relspec.EnvListenPID])
		if err != nil || p != pid {
			return 0, nil, nil
		}
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 || n > maxListenFDs {
		return 0, nil, fmt.Errorf("%w: %s=%q is not a count of file descriptors (0..%d); fix or unset it", ErrListenEnv, countVar, count, maxListenFDs)
	}
	names := make([]string, n)
	if v, ok := env[namesVar]; ok && n > 0 {
		parts := strings.Split(v, ":")
		if len(parts) != n {
			return 0, nil, fmt.Errorf("%w: %s names %d sockets but %s=%d; give one name per socket, separated by ':'", ErrListenEnv, namesVar, len(parts), countVar, n)
		}
		copy(names, parts)
	}
	return n, names, nil
}

// listenersFromFDs wraps fds first..first+n-1 as listeners and closes the
// originals. On error, every fd in the range is closed so that none leaks.
func listenersFromFDs(first, n int, names []string) ([]NamedListener, error) {
	out := make([]NamedListener, 0, n)
	var errs []error
	for i := range n {
		fd := first + i
		ln, err := listenerFromFD(fd, names[i])
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: fd %d (name %q): %w", ErrListenEnv, fd, names[i], err))
			continue
		}
		out = append(out, NamedListener{Name: names[i], Listener: ln})
	}
	if len(errs) > 0 {
		for _, l := range out {
			l.Close()
		}
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func listenerFromFD(fd int, name string) (net.Listener, error) {
	// Refuse anything that is not a listening stream socket before handing
	// it to net, which would otherwise report a confusing error.
	typ, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TYPE)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("not a socket (%w); the parent must pass listening sockets only", err)
	}
	if typ != syscall.SOCK_STREAM {
		syscall.Close(fd)
		return nil, errors.New("not a stream socket; only TCP and Unix stream listeners can be served")
	}
	if acc, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN); err == nil && acc == 0 {
		syscall.Close(fd)
		return nil, errors.New("socket is not listening (Accept=yes sockets are not supported; use Accept=no)")
	}
	// os.NewFile keeps a non-blocking descriptor non-blocking, and
	// net.FileListener works on a close-on-exec duplicate, so closing f
	// releases only the original number.
	f := os.NewFile(uintptr(fd), "listen-fd-"+name)
	defer f.Close()
	return net.FileListener(f)
}

// Listen returns the sockets handed over in env (see [Inherited]) when
// there are any, else a new TCP listener on addr named "http". It is the
// one place that decides where a release listens: the supervisor and an
// unsupervised app process both call it.
func Listen(env map[string]string, addr string) ([]NamedListener, error) {
	inherited, err := Inherited(env)
	if err != nil || len(inherited) > 0 {
		return inherited, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another process using the port? set PORT to another one)", addr, err)
	}
	return []NamedListener{{Name: HTTPListenerName, Listener: ln}}, nil
}
