package release

import "github.com/relkit/relkit/internal/sdnotify"

// notifyReady tells the process manager (a relkit supervisor or systemd,
// through NOTIFY_SOCKET) that a release running without an HTTP server is
// ready. With the server on, the server package sends READY=1 itself once
// every readiness check has passed.
func (r *runner[C]) notifyReady() {
	sdnotify.Send(r.env["NOTIFY_SOCKET"], sdnotify.Ready, "STATUS="+r.name+" "+r.version+" ready")
}
