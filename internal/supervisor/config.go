package supervisor

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/relkit/relkit/internal/handover"
)

// Config configures a [Supervisor]. Binary, Name and Tmp are required; every
// other field's zero value means the default stated in its comment.
type Config struct {
	// Name is the release name. It names the per-generation sockets in Tmp
	// and is reported by ping. Required.
	Name string
	// Version is the release version reported by ping.
	Version string
	// Root is RELEASE_ROOT, reported by ping.
	Root string

	// Binary is the path of the program each generation runs. It is taken
	// as given, never from os.Args[0], so an upgrade can start another
	// release's binary. Required.
	Binary string
	// Args are the generation's arguments after the program name.
	// Default: ["start"].
	Args []string
	// Env is the process environment every generation starts from: the
	// supervisor's own, never an environment file's. Each generation gets
	// its own release's environment file beneath it (see
	// internal/environ.ForRelease), and the supervisor adds NOTIFY_SOCKET,
	// RELKIT_CONTROL_SOCKET, RELKIT_GENERATION, RELKIT_LISTEN_FDS and
	// RELKIT_LISTEN_FDNAMES, replacing any values given (and dropping
	// systemd's LISTEN_* variables).
	Env map[string]string
	// Dir is the generation's working directory. Default: the
	// supervisor's.
	Dir string

	// Listeners are handed to every generation as descriptors 3, 4, … in
	// order. The supervisor keeps them open across generations and never
	// accepts on them.
	Listeners []handover.NamedListener

	// Tmp is the private directory (RELEASE_TMP) for each generation's
	// notification and control sockets. Required.
	Tmp string
	// PIDFile, when set, receives the supervisor's PID once the app is
	// ready and is removed when the supervisor stops or gives up.
	PIDFile string

	// Output receives what generations write to stdout and stderr, line by
	// line; an Output with a Flush() error method (a logbuf.Writer) is
	// flushed when a generation's output ends. Default: os.Stderr.
	Output io.Writer
	// Logger receives the supervisor's own messages. Default: discarded.
	Logger *slog.Logger
	// Notify is the NOTIFY_SOCKET of the supervisor's own manager
	// (systemd, or `daemon` waiting for readiness): it is sent READY=1,
	// RELOADING=1, STOPPING=1 and STATUS=. Empty: no notifications.
	Notify string

	// ReadyTimeout bounds how long a generation may take to send READY=1,
	// except in an upgrade, which gives its own bound. Default 60s.
	ReadyTimeout time.Duration
	// ReadyTimeoutSetting names the setting an operator raises when
	// ReadyTimeout is too short (e.g. "RELEASE_READY_TIMEOUT"), for error
	// messages. Default: none named.
	ReadyTimeoutSetting string
	// StopTimeout bounds a generation's graceful stop after SIGTERM; it is
	// killed after that. It should exceed the app's SHUTDOWN_TIMEOUT.
	// Default 35s.
	StopTimeout time.Duration

	// HandoffTimeout bounds asking the generation being replaced for the
	// state it hands over (see [Supervisor.Upgrade]). Default 30s.
	HandoffTimeout time.Duration

	// MaxRestarts is how many crashes within RestartWindow the heart
	// restarts the app after; one more and it gives up. Default 5;
	// negative: never restart.
	MaxRestarts int
	// RestartWindow is the window MaxRestarts counts crashes in.
	// Default 60s.
	RestartWindow time.Duration
	// Backoff is the delay before the first restart after a crash; it
	// doubles with each further crash in the window. Default 500ms.
	Backoff time.Duration
	// MaxBackoff caps the restart delay. Default 10s.
	MaxBackoff time.Duration

	// Recorder commits each upgrade's switch the moment the new generation
	// is ready, and records its outcome. Nil: nothing is recorded.
	Recorder Recorder
	// Probation is the window after an upgrade in which a crash of the new
	// release switches back to the previous one (committed through
	// Recorder) instead of restarting it. Default 60s; negative: off.
	Probation time.Duration

	// ReapOrphans makes the supervisor reap every child process, not just
	// the generations: set it when the supervisor is PID 1 (a container) or
	// a child subreaper. It must not be set in a program that starts other
	// children and waits for them itself.
	ReapOrphans bool

	// TrimBinary makes the supervisor give back its resident copy of the
	// read-only pages of its own binary half a second after each time a
	// generation becomes ready (Linux, a statically linked executable;
	// see trimBinary): set
	// it when the supervisor runs the same binary as the app, whose
	// mappings keep those pages in memory. Its idle resident set is then
	// its own memory and the pages it touches again. Default false.
	TrimBinary bool

	// Started, when set, is called once, right after the first
	// generation has been started and before Run waits for it to be
	// ready: the place for what the app does not need before it starts
	// (serving the control socket, say), so that it does not delay the
	// app's boot. An error stops that generation, and Run returns it.
	Started func() error

	// Signals delivers the signals the supervisor acts on: SIGTERM or
	// SIGINT stop the app gracefully (the generation gets SIGTERM), a second
	// one kills it at once; SIGHUP restarts it; SIGUSR1 and SIGUSR2 are
	// passed on to the current generation (as tini does for a container's
	// app). Nil: none.
	Signals <-chan os.Signal
}

// Defaults applied by [New] to zero fields of [Config].
const (
	DefaultReadyTimeout   = 60 * time.Second
	DefaultStopTimeout    = 35 * time.Second
	DefaultHandoffTimeout = 30 * time.Second
	DefaultMaxRestarts    = 5
	DefaultRestartWindow  = 60 * time.Second
	DefaultBackoff        = 500 * time.Millisecond
	DefaultMaxBackoff     = 10 * time.Second
	DefaultProbation      = 60 * time.Second
)

func (c Config) withDefaults() Config {
	if len(c.Args) == 0 {
		c.Args = []string{"start"}
	}
	if c.Output == nil {
		c.Output = os.Stderr
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = DefaultReadyTimeout
	}
	if c.StopTimeout <= 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	if c.HandoffTimeout <= 0 {
		c.HandoffTimeout = DefaultHandoffTimeout
	}
	if c.MaxRestarts == 0 {
		c.MaxRestarts = DefaultMaxRestarts
	}
	if c.RestartWindow <= 0 {
		c.RestartWindow = DefaultRestartWindow
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.Probation == 0 {
		c.Probation = DefaultProbation
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	return c
}
