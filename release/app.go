package release

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/relkit/relkit/server"
)

// App describes an application. Its zero value, given only a Name, is a
// release with no HTTP server and no tasks; C is the application's
// configuration struct, loaded from the environment by
// [github.com/relkit/relkit/runtimeconfig] (embed
// [github.com/relkit/relkit/runtimeconfig.Base] in it).
type App[C any] struct {
	// Name is the release name: it names the binary in help output, the
	// log file and the release tarball. Required.
	Name string

	// Version is the release version. Default: a version injected at build
	// time with -ldflags "-X github.com/relkit/relkit/release.version=VSN"
	// (relkit build does this), else the main module's version from the
	// build info, else "devel". An injected version wins over this field.
	Version string

	// Server is the code-level default for running the HTTP server at start,
	// like Phoenix's `server: true`. The SERVER variable overrides it.
	Server bool

	// Handler builds the HTTP handler once configuration is loaded. It runs
	// at start, before the server listens; an error aborts the boot.
	Handler func(ctx context.Context, cfg *C, log *slog.Logger) (http.Handler, error)

	// Checks are the readiness checks /readyz runs, e.g. a database ping;
	// /readyz answers 503 naming the ones that fail, and READY=1 goes to
	// systemd (or relkit's supervisor) only once all have passed. They run
	// only after Handler has returned, so they may use what Handler built
	// (capture it in a variable both closures share). Default: none.
	Checks []Check[C]

	// ServerOptions tunes the HTTP server start runs: middleware
	// switches, health paths, timeouts. Where it listens, its logger,
	// and its drain timing come from the configuration (PORT, LOG_*,
	// SHUTDOWN_TIMEOUT, DRAIN_DELAY), so they are not options. Default:
	// the server package's defaults.
	ServerOptions ServerOptions

	// Tasks are the named one-off tasks run by `eval TASK`.
	Tasks Tasks[C]

	// Defaults are code-level defaults for environment variables, applied
	// when the variable is unset, e.g. {"DATABASE_URL": "sqlite://app.db"}.
	// They take precedence over envDefault tags.
	Defaults map[string]string

	// Handoff carries in-memory state from the running release to the one
	// replacing it at an upgrade, downgrade or restart. Default: nothing
	// is handed over.
	Handoff Handoff

	// Migrations holds the SQL migrations embedded in the binary, as
	// NNN_name.up.sql / NNN_name.down.sql files at its root. Nil: the app
	// has no migrations.
	Migrations fs.FS

	// TrustedKeys are the minisign public keys (the "RW..." line of a
	// .pub file relkit keygen writes) whose signatures upgrade and unpack
	// accept. When set, a tarball without a valid TARBALL.minisig by one of
	// them is refused before anything is unpacked. The keys live in the
	// running binary, not next to the tarball, so whoever can replace a
	// tarball and its .sha256 cannot make it installable. Rotation: a
	// release signed by an old key lists the old and the new key; the
	// next one may be signed by the new key. Default nil: tarballs are
	// checked against their .sha256 only.
	TrustedKeys []string
}

// ServerOptions are the settings of the HTTP server that are the
// application's to choose; each field is the field of the same name of
// [server.Options], with the same default.
type ServerOptions struct {
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s;
	// negative disables it.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request. Default none.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response. Default none.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection waits for its
	// next request. Default 120s; negative disables it.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the size of request headers. Default 64 KiB.
	MaxHeaderBytes int
	// DrainIdleTimeout is how long, once the listener is closed, an idle
	// connection is given to send one last request. Default 1s.
	DrainIdleTimeout time.Duration

	// HealthPath and ReadyPath move the liveness and readiness
	// endpoints. Default "/healthz" and "/readyz".
	HealthPath, ReadyPath string
	// DisableHealth turns off both health endpoints.
	DisableHealth bool
	// Checks are readiness checks besides [App.Checks], for checks that
	// need no configuration.
	Checks []server.Check

	// DisableRequestID, DisableRecover and DisableAccessLog turn off the
	// request ID, panic recovery and access log middleware.
	DisableRequestID, DisableRecover, DisableAccessLog bool

	// ConfigureHTTP, when set, is called with the http.Server before it
	// serves, for settings these options do not cover. It must not
	// replace ConnState or Handler.
	ConfigureHTTP func(*http.Server)
}

// Check is a readiness check of an application: Run returns nil when the
// dependency it checks is usable. See [App.Checks].
type Check[C any] struct {
	// Name identifies the check in /readyz's 503 response and the logs,
	// e.g. "db". Required.
	Name string

	// Run performs the check; ctx carries Timeout. Required.
	Run func(ctx context.Context, cfg *C) error

	// Timeout bounds one run; running out counts as a failure. Default
	// 5s.
	Timeout time.Duration
}

// Tasks maps task names to tasks.
type Tasks[C any] map[string]Task[C]

// Task is a named one-off piece of work an operator runs against a release:
// `myapp eval greet Ada`.
type Task[C any] struct {
	// Summary is the one-line description shown by `eval` with no task.
	Summary string

	// Usage shows the task's arguments, e.g. "[name]".
	Usage string

	// Run does the work. A returned error is printed and makes the command
	// exit 1; return a [UsageError] for bad arguments (exit 64).
	Run func(ctx context.Context, call *Call[C]) error

	// Via says where the task may run: in a fresh process with `eval`, inside
	// the running system with `rpc`, or both. Default: eval only.
	Via Via
}

// Via says where a task may run.
type Via int

const (
	// ViaEval runs the task only with `eval`, in a fresh process that loads
	// the configuration and never starts the server. The default.
	ViaEval Via = iota
	// ViaRPC runs the task only with `rpc`, inside the running system, with
	// its live configuration and state; its output streams back to the
	// caller, and Call.Stdin is empty.
	ViaRPC
	// ViaEvalOrRPC lets the task run either way.
	ViaEvalOrRPC
)

func (v Via) eval() bool { return v == ViaEval || v == ViaEvalOrRPC }

func (v Via) rpc() bool { return v == ViaRPC || v == ViaEvalOrRPC }

// Call is what a task receives: its arguments, the loaded configuration, a
// logger and the caller's standard streams.
type Call[C any] struct {
	// Args are the task's arguments, after the task name.
	Args []string
	// Config is the configuration loaded from the environment.
	Config *C
	// Logger is the release's logger.
	Logger *slog.Logger
	// Stdin, Stdout and Stderr are the caller's streams.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// note marks a task in the task lists when it does not run everywhere.
func (v Via) note() string {
	switch v {
	case ViaRPC:
		return " (rpc only)"
	case ViaEvalOrRPC:
		return " (eval or rpc)"
	}
	return ""
}
