package release

import (
	"net"
	"os"

	"github.com/relkit/relkit/internal/handover"
	"github.com/relkit/relkit/internal/sdnotify"
)

// inheritedListener returns the HTTP socket handed over by a supervisor
// (RELKIT_LISTEN_FDS) or systemd (LISTEN_FDS), or nil to listen on PORT.
//
// This and notifyReady stand in for server.Options.Env, which does both in
// the server package; start passes the environment there once it does.
func (r *runner[C]) inheritedListener() (net.Listener, error) {
	ls, err := handover.Inherit(r.env, os.Getpid())
	if err != nil {
		return nil, err
	}
	if ln := handover.Find(ls, "http"); ln != nil {
		return ln, nil
	}
	if len(ls) == 1 {
		return ls[0].Listener, nil
	}
	return nil, nil
}

// notifyReady tells the process manager (a relkit supervisor or systemd,
// through NOTIFY_SOCKET) that the release is ready.
func (r *runner[C]) notifyReady() {
	sdnotify.Send(r.env["NOTIFY_SOCKET"], sdnotify.Ready, "STATUS="+r.name+" "+r.version+" ready")
}
