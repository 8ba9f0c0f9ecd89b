package relspec

// Environment variables a release reads for where it keeps its files.
const (
	// EnvRoot overrides the release root (default: found from the
	// binary's path, else the working directory).
	EnvRoot = "RELEASE_ROOT"
	// EnvTmp is the directory of the PID file, the control socket and the
	// instance lock (default ROOT/tmp).
	EnvTmp = "RELEASE_TMP"
	// EnvLogDir is the directory of a daemon's log (default ROOT/log).
	EnvLogDir = "RELEASE_LOG_DIR"
	// EnvEnvFile names the environment file a release reads instead of
	// releases/VSN/env.
	EnvEnvFile = "RELEASE_ENV_FILE"
)

// EnvFileName is the environment file a release reads from its own
// directory, releases/VSN/env, when RELEASE_ENV_FILE is unset.
const EnvFileName = "env"

// Variables of systemd's protocols (sd_notify(3), sd_listen_fds(3)),
// which relkit's supervisor speaks to its generations too.
const (
	EnvNotifySocket  = "NOTIFY_SOCKET"
	EnvWatchdogUsec  = "WATCHDOG_USEC"
	EnvWatchdogPID   = "WATCHDOG_PID"
	EnvListenFDs     = "LISTEN_FDS"
	EnvListenPID     = "LISTEN_PID"
	EnvListenFDNames = "LISTEN_FDNAMES"
)

// Variables relkit's own processes set for their children. Every name
// starts with [RelkitPrefix]; none may be set in an environment file.
const (
	// RelkitPrefix starts every variable relkit sets for a child process.
	RelkitPrefix = "RELKIT_"

	// EnvRelkitListenFDs and EnvRelkitListenFDNames hand listening
	// sockets to a child (fds 3, 4, …), like LISTEN_FDS without a pid.
	EnvRelkitListenFDs     = "RELKIT_LISTEN_FDS"
	EnvRelkitListenFDNames = "RELKIT_LISTEN_FDNAMES"

	// EnvControlSocket is where a supervised app process (a generation)
	// serves its own control socket.
	EnvControlSocket = "RELKIT_CONTROL_SOCKET"
	// EnvGeneration is a generation's number, 1 for the first.
	EnvGeneration = "RELKIT_GENERATION"
	// EnvHandoffFile names the file holding the state the previous
	// generation handed over.
	EnvHandoffFile = "RELKIT_HANDOFF_FILE"
)
