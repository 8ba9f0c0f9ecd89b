package server

import (
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/relkit/relkit/internal/handover"
	"github.com/relkit/relkit/internal/relspec"
)

// Environment variables of the listener hand-over protocol, which a
// [Server] reads from Options.Env.
const (
	// EnvListenFDs, EnvListenPID and EnvListenFDNames are systemd's socket
	// activation variables (sd_listen_fds(3)). The sockets are used only
	// when LISTEN_PID is this process's pid.
	EnvListenFDs     = relspec.EnvListenFDs
	EnvListenPID     = relspec.EnvListenPID
	EnvListenFDNames = relspec.EnvListenFDNames

	// EnvRelkitListenFDs and EnvRelkitListenFDNames are relkit's own
	// hand-over variables, set by relkit's supervisor. A parent that
	// starts its child through a fork+exec cannot know the child's pid
	// before the exec, so these carry no pid; they take precedence over
	// LISTEN_FDS.
	EnvRelkitListenFDs     = relspec.EnvRelkitListenFDs
	EnvRelkitListenFDNames = relspec.EnvRelkitListenFDNames
)

// HTTPListenerName is the name of the listener a [Server] serves when a
// process is handed several: FileDescriptorName=http in a systemd .socket
// unit, or the listener relkit's supervisor hands over.
const HTTPListenerName = handover.HTTPListenerName

// NamedListener is a listening socket with the name a parent process gave
// it (LISTEN_FDNAMES); the name is "" when the parent gave none.
type NamedListener struct {
	Name string
	net.Listener
}

// InheritedListeners takes the listening sockets this process was handed,
// in fd order, as described by env: RELKIT_LISTEN_FDS/RELKIT_LISTEN_FDNAMES
// when set, else systemd's LISTEN_FDS/LISTEN_FDNAMES when LISTEN_PID is
// this process's pid. It returns nil, nil when nothing was handed over.
// Use it when the application takes named sockets of its own besides
// "http": serve the "http" ones with Options.Listeners.
//
// The sockets keep their O_NONBLOCK flag, and the original descriptors
// 3, 4, ... are closed (the returned listeners hold close-on-exec
// duplicates), so a program this process starts does not inherit them by
// accident. Because of that, only the first call in a process takes them;
// later calls return [ErrListenersTaken].
//
// env is the process environment as a map; InheritedListeners never reads
// the environment itself.
func InheritedListeners(env map[string]string) ([]NamedListener, error) {
	ls, err := handover.Inherited(env)
	if err != nil || len(ls) == 0 {
		return nil, err
	}
	out := make([]NamedListener, len(ls))
	for i, l := range ls {
		out[i] = NamedListener{Name: l.Name, Listener: l.Listener}
	}
	return out, nil
}

// pickHTTP returns the inherited listeners named "http", or the only one
// when a single unnamed-for-us socket was handed over (a systemd .socket
// unit without FileDescriptorName=). Unused listeners are closed.
func pickHTTP(inherited []handover.NamedListener, log *slog.Logger) ([]net.Listener, error) {
	if len(inherited) == 1 {
		return []net.Listener{inherited[0].Listener}, nil
	}
	var lns []net.Listener
	var names []string
	for _, l := range inherited {
		names = append(names, fmt.Sprintf("%q", l.Name))
		if l.Name == HTTPListenerName {
			lns = append(lns, l.Listener)
		}
	}
	if len(lns) == 0 {
		for _, l := range inherited {
			l.Close()
		}
		return nil, fmt.Errorf("%w: got %s; name the HTTP socket \"http\" (FileDescriptorName=http in the .socket unit)", ErrNoHTTPListener, strings.Join(names, ", "))
	}
	for _, l := range inherited {
		if l.Name != HTTPListenerName {
			log.Warn("closing an inherited listener the server does not serve; take it with InheritedListeners to use it",
				slog.String("name", l.Name), slog.String("addr", l.Addr().String()))
			l.Close()
		}
	}
	return lns, nil
}
