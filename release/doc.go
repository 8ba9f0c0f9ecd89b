// Package release turns an application into a release: one call in main.go
// and the binary gets the operational command line that Elixir's
// mix release gives a Phoenix application.
//
//	func main() {
//		release.Main(release.App[Config]{
//			Name:    "hello",
//			Server:  true,
//			Handler: newHandler,
//			Tasks:   release.Tasks[Config]{"greet": {Summary: "print a greeting", Run: greet}},
//		})
//	}
//
// [Main] wires the process (arguments, environment, standard streams,
// signals) into [App.Run], which tests call directly with buffers.
//
// Commands:
//
//	start        run in the foreground; the HTTP server runs when enabled
//	health       probe the running release's /healthz on PORT (exit 0 or 1)
//	daemon       run in the background, supervised; returns once ready
//	stop         stop the running system gracefully (kill after a timeout)
//	pid          print the PID of the running system
//	restart      replace a daemon's app without closing its socket
//	upgrade VSN  switch the running system to release VSN without dropping a connection
//	downgrade VSN  switch back to an installed older release (schema checked; default: the previous one)
//	switch VSN   upgrade or downgrade to VSN, whichever is needed (-json says what changed)
//	unpack VSN   verify and unpack a release without switching to it
//	releases     list the installed releases, their state, newest migration and which one runs
//	releases prune  remove the releases beyond RELEASE_KEEP (never the running or previous one)
//	rpc TASK     run a task inside the running system (Task.Via)
//	eval TASK    run a task in a fresh process, never starting the server
//	config       print every variable the app reads, secrets redacted
//	version      print the name and version (-v: revision, Go, platform)
//	gen-secret   print a random secret for SECRET_KEY_BASE
//	help         list the commands
//
// Exit codes: 0 success; 1 runtime failure; 64 usage error (unknown
// command, flag or task); 78 configuration error. After SIGINT or SIGTERM,
// start shuts down gracefully within SHUTDOWN_TIMEOUT and exits 0; a second
// signal exits at once with 128+signal (130 or 143).
//
// Configuration is read from the environment at boot by
// [github.com/relkit/relkit/runtimeconfig]; the configuration type C should
// embed [github.com/relkit/relkit/runtimeconfig.Base]. The HTTP server runs
// at start when App.Server is true, unless SERVER=false, and when SERVER=true
// even if App.Server is false; start logs which, and how to change it.
//
// The HTTP server is [github.com/relkit/relkit/server]: start serves the
// sockets handed over by systemd socket activation or relkit's supervisor
// when there are any, else PORT; /healthz and /readyz run [App.Checks];
// after SIGTERM /readyz answers 503, the server keeps serving for
// DRAIN_DELAY, then stops accepting and lets every connection finish
// within SHUTDOWN_TIMEOUT. [App.ServerOptions] ([ServerOptions]) switches middleware and
// moves the health endpoints.
//
// Readiness checks are an explicit field rather than an interface the
// Handler may implement: they show in the App literal, survive any
// middleware the Handler is wrapped in, and carry a name and a timeout
// each.
//
// # Running in the background
//
// daemon starts a small supervisor (this same binary) in a new session and
// waits until the app reports ready; if the boot fails it prints the reason
// and the end of the log and exits non-zero (78 for bad configuration). The
// supervisor owns the listening socket, RELEASE_TMP/NAME.pid (its own PID,
// written once the app is ready), the control socket RELEASE_TMP/NAME.sock
// and the log RELEASE_LOG_DIR/NAME.log (rotated by size); it runs start as
// its child, restarts it after a crash with backoff (giving up after
// RELEASE_HEART_MAX_RESTARTS crashes within RELEASE_HEART_WINDOW), and on
// restart starts a new child on the same socket, waits until it is ready,
// then drains the old one. SIGTERM or SIGINT stop it gracefully, SIGHUP
// restarts the app, SIGUSR1 and SIGUSR2 are passed on to it.
//
// stop, pid, restart and rpc talk to the control socket, which only the
// release's user and root may use (its directory is private and the peer's
// uid is checked). A PID read from a file is never signalled: a stale PID
// file is ignored, and a process is identified by the kernel's record of
// who answers on the socket. A release started with start serves the same
// socket, so stop, pid and rpc work on it too, and a second instance with
// the same RELEASE_TMP is refused with "already running (pid N)".
//
// start of an assembled release (ROOT/releases/VSN/NAME, as relkit build
// makes it) runs the same supervisor in the foreground, logging to
// standard error: the process systemd, Docker or a PID file know keeps its
// PID across restarts and upgrades, forwards READY=1, RELOADING=1 and
// STATUS= to systemd, reaps orphans as PID 1 in a container must, and
// passes SIGTERM on to the app as a graceful stop. A development build
// (go run, go build) runs the app in the start process itself.
//
// # Upgrades
//
// upgrade VSN verifies and unpacks releases/VSN/NAME-VSN*.tar.gz (or
// -tarball PATH) next to the running release, asks the supervisor to start
// releases/VSN/NAME as a new generation on the same sockets, and once it is
// ready (within UPGRADE_TIMEOUT, default 60s) the old one drains and stops;
// releases/RELEASES then marks VSN current and permanent and bin/NAME
// points to it. It prints each step, as Exrm does:
//
//	Unpacked release 1.1.0
//	Installed release 1.1.0
//	Made release 1.1.0 permanent
//
// If the new release exits, times out or fails readiness, the old one keeps
// serving, what was unpacked is removed, RELEASES is left byte for byte as
// it was, and upgrade exits 1 with the reason and the new release's last
// lines of output. Files at the tarball's root (rel/overlays) are not
// installed; upgrade names them. downgrade VSN switches the same way to an
// installed release, after checking that the database's schema is not
// newer than that release's newest migration (it prints the rollback
// command to run first). [App.Handoff] carries in-memory state across the
// switch.
//
// Each release reads its environment file at every boot, releases/VSN/env
// (or the file RELEASE_ENV_FILE names): KEY=VALUE lines, # comments, no
// shell expansion. The process environment wins over the file, so to change
// a setting at an upgrade, set it in the new release's file, not in the
// service's environment.
package release
