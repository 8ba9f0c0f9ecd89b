// Package supervisor runs a release's app as a child process and keeps it
// running, the job of Erlang's heart and of the process manager behind
// `daemon`, `start` of an assembled release, `restart`, `upgrade` and
// `downgrade`.
//
// A [Supervisor] owns what must outlive any one app process: the listening
// sockets, the PID file, and the identity that systemd, Docker or the PID
// file know (its own PID, unchanged across restarts). Each app process is
// a generation:
//
//   - started from [Config].Binary (an explicit path, so an upgrade can run
//     another release's binary) with the sockets as descriptors 3, 4, …
//     (RELKIT_LISTEN_FDS, see internal/handover),
//     its own NOTIFY_SOCKET, and RELKIT_CONTROL_SOCKET where it serves rpc;
//   - ready when it sends READY=1 there, within [Config].ReadyTimeout;
//   - stopped with SIGTERM (the app drains), and SIGKILL after
//     [Config].StopTimeout.
//
// [Supervisor.Run] boots the first generation (a [*BootError] when it never
// becomes ready), then restarts a crashed app after a doubling backoff and
// gives up ([ErrGaveUp]) after more than [Config].MaxRestarts crashes within
// [Config].RestartWindow. [Supervisor.Restart] starts the next generation on
// the same sockets and stops the previous one only once the new one is
// ready, so the socket never closes and no connection is refused; a new
// generation that fails leaves the old one serving. [Supervisor.Upgrade] does
// the same with another release's binary ([Release]), bounded by its own
// timeout, and makes that release the current one (restarts and crash
// recovery start it from then on); a failure is a [*SwitchError] carrying
// the new release's last lines of output. The supervisor forwards
// READY=1, RELOADING=1, STOPPING=1 and STATUS= to its own manager
// ([Config].Notify), and with [Config].ReapOrphans reaps every child, as PID 1
// in a container must.
//
// The Supervisor is a [github.com/relkit/relkit/internal/control.Handler]:
// served on the release's control socket it answers ping, pid, stop,
// restart and upgrade (to Root/releases/VSN/Name), and passes rpc on to the
// current generation.
//
// # Contract with the app (stable across releases, for upgrades)
//
// The app's side of the contract is internal/supervised. Environment of a
// generation: [Config].Env (the supervisor's process environment) with
// the generation's own release's environment file beneath it
// (internal/environ.ForRelease), then NOTIFY_SOCKET, RELKIT_LISTEN_FDS,
// RELKIT_LISTEN_FDNAMES (the HTTP socket is named "http"),
// RELKIT_CONTROL_SOCKET, RELKIT_GENERATION, and RELKIT_HANDOFF_FILE when
// its predecessor handed over state. The app sends READY=1 once it serves
// and its control socket is up, drains on SIGTERM, and answers the control
// protocol's rpc request on RELKIT_CONTROL_SOCKET.
//
// State handoff: before starting a replacement (restart or upgrade, not
// after a crash), the supervisor sends the running generation the handoff
// request. An answer with state is written to a private file in Tmp, named
// to the new generation in RELKIT_HANDOFF_FILE (internal/supervised reads it) and
// removed once the new generation is ready or failed; an answer without
// state, or a release that does not know the request (status 64), hands
// over nothing; a failed export fails the switch. The old generation keeps
// serving until the new one is ready, so what changes in between is not
// carried over.
//
// # Why not tableflip
//
// github.com/cloudflare/tableflip upgrades a process by forking its
// successor, which inherits the listeners, and exits the parent once the
// child is ready: the PID changes at every upgrade, so systemd (without
// PIDFile= tricks), Docker and Kubernetes, which watch one PID, see the
// service exit. relkit keeps one long-lived supervisor whose PID never
// changes, runs the app as its child, and can start another release's
// binary rather than its own. Measured under the same load, tableflip's
// example failed 0.36 % of requests across upgrades, relkit 0 (README,
// Performance).
//
// # Notes
//
// Children get Pdeathsig SIGTERM (Linux): if the supervisor is killed, the
// app drains and exits instead of holding the port. Children run in their
// own process group, so a terminal's ^C reaches only the supervisor, which
// decides what the app gets.
package supervisor
