package release

import (
	"context"
	"errors"
	"fmt"
	"github.com/relkit/relkit/internal/logbuf"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/handover"
	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/logfile"
	"github.com/relkit/relkit/internal/pidfile"
	"github.com/relkit/relkit/internal/relspec"
	"github.com/relkit/relkit/internal/safefile"
	"github.com/relkit/relkit/internal/sdnotify"
	"github.com/relkit/relkit/internal/securedir"
	"github.com/relkit/relkit/internal/supervisor"
	"github.com/relkit/relkit/runtimeconfig"
)

const superviseSummary = "run the supervisor in the foreground (daemon starts it detached)"

// superviseCommandName is the hidden command daemon starts detached: the
// supervisor process.
const superviseCommandName = "relkit-supervise"

// superviseCommand is the supervisor process daemon starts detached: it
// logs to the release's log file (see runSupervisor).
type superviseCommand struct{}

func (c *superviseCommand) run(ctx context.Context, r *runner, args []string) error {
	if err := r.parse(r.flags(superviseCommandName, "", superviseSummary), args); err != nil {
		return err
	}
	return r.runSupervisor(ctx, false)
}

// runSupervisor is the supervisor of a running system: it holds the
// instance lock, the listening sockets, the control socket and the PID
// file, and runs the app (this release's start, later an upgraded
// release's) as its child, restarting it after crashes and switching it at
// upgrades without closing the sockets. Detached (under daemon) it writes
// the log file, with its own stdout and stderr pointed there too; in the
// foreground (start of an assembled release, the process systemd or Docker
// runs) it logs to standard error, with the app's output passed through.
// Its PID is the system's for its whole life.
//
// It starts the app as soon as it holds what the app needs first: the lock
// (so that no second system starts), the listening sockets the app
// inherits, and where the app's output goes. The rest (the control socket,
// the stale PID file, the release root the switches record in, the log
// directory of a foreground run) waits until the app has been started
// (supervisor.Config.Started), so the app's boot and that work overlap.
func (r *runner) runSupervisor(ctx context.Context, foreground bool) error {
	notify := r.env.Get(relspec.EnvNotifySocket)
	fail := func(code int, err error) error {
		sdnotify.Send(notify, "STATUS="+err.Error())
		return &exitError{Code: code, Err: err}
	}
	dcfg, err := r.settings.Release()
	if err != nil {
		return fail(ExitConfig, err)
	}
	base, err := r.settings.Base()
	if err != nil {
		var ce *runtimeconfig.Error
		if errors.As(err, &ce) {
			return fail(ExitConfig, err)
		}
		return fail(failureCode(err), err)
	}
	p, err := r.settings.Paths()
	if err != nil {
		return fail(failureCode(err), err)
	}
	// RELEASE_TMP holds the lock and the app's notification socket;
	// RELEASE_LOG_DIR is needed first only by a detached supervisor,
	// which writes the log file.
	if err := p.mkdirTmp(); err != nil {
		return fail(failureCode(err), err)
	}
	if !foreground {
		if err := p.mkdirLog(); err != nil {
			return fail(failureCode(err), err)
		}
	}
	lock, err := pidfile.TryLock(p.lock)
	if errors.Is(err, pidfile.ErrLocked) {
		return fail(ExitFailure, r.alreadyRunning(p))
	}
	if err != nil {
		return fail(failureCode(err), err)
	}
	defer lock.Unlock()

	// Where the supervisor logs, and where the app's output goes.
	var out io.Writer = r.stderr
	// Generations start from the process environment, never this
	// release's env file: each reads its own release's file.
	genEnv := r.env.ForChild()
	outTerminal := false
	if !foreground {
		logw, err := logfile.Open(p.logFile, logfile.Options{MaxSize: int64(dcfg.LogMaxSize), Keep: dcfg.LogKeep})
		if err != nil {
			return fail(failureCode(err), err)
		}
		defer logw.Close()
		logw.OnOpen(redirectStdio)
		out = logw
	} else if outTerminal = isTerminal(r.stderr); outTerminal && (base.LogFormat == "" || base.LogFormat == runtimeconfig.LogAuto) {
		// The app writes into a pipe, where "auto" would mean JSON: keep
		// the terminal's text format for both.
		genEnv["LOG_FORMAT"] = string(runtimeconfig.LogText)
	}
	// The generations write each line straight into their pipe (see
	// newLogger), so that a crash loses none; the supervisor, which
	// outlives them, batches what it passes on, in the same batch as its
	// own lines: the log keeps the order in which the lines were written.
	// A terminal gets every line at once.
	interval, logOut := logbuf.DefaultInterval, io.Writer(nil)
	if outTerminal {
		interval, logOut = -1, out
	}
	childOut := logbuf.New(out, interval, logbuf.DefaultSize)
	defer childOut.Close()
	if logOut == nil {
		logOut = childOut
	}
	log := r.newLogger(logOut, base.LogLevel.Level(), base.LogFormat).With("app", r.app.name, "component", "supervisor")

	// The sockets handed to this process, else (with the HTTP server on)
	// PORT: the supervisor holds them for every generation.
	var listeners []handover.NamedListener
	if base.ServerEnabled(r.app.server) {
		listeners, err = handover.Listen(r.env.Map(), fmt.Sprintf(":%d", base.Port))
	} else {
		listeners, err = handover.Inherited(r.env.Map())
	}
	if err != nil {
		log.Error("cannot listen", "port", base.Port, "err", err)
		return fail(failureCode(err), err)
	}
	for _, l := range listeners {
		defer l.Close()
	}

	exe := r.exe
	// Signals the supervisor acts on besides SIGTERM and SIGINT (which
	// cancel ctx through Main): SIGHUP restarts the app, SIGUSR1 and
	// SIGUSR2 are passed on to it. It subscribes before the app starts:
	// unsubscribed, any of them would end the supervisor and leave the app
	// an orphan holding the sockets.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	if err := supervisor.BecomeSubreaper(); err != nil {
		log.Warn("cannot become the child subreaper; orphans of the app are reaped by init", "err", err)
	}
	var recorder *switchRecorder
	var rec supervisor.Recorder
	if p.Assembled {
		// Its root is opened once the app has been started (started,
		// below); nothing records a switch before the control socket,
		// opened after it, asks for one.
		recorder = &switchRecorder{log: log}
		rec = recorder
	}
	var ctl *control.Server
	defer func() {
		if ctl == nil {
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ctl.Shutdown(sctx)
	}()
	var sup *supervisor.Supervisor
	// started runs once the first generation has been started, while it
	// boots: what the app does not wait for (the supervisor's own first
	// log lines among it, so "listening" follows "app starting").
	started := func() error {
		for _, l := range listeners {
			log.Info("listening", "name", l.Name, "addr", l.Addr().String())
		}
		if pid, err := pidfile.Read(p.pidFile); err == nil {
			log.Warn("replacing a stale PID file; its process was not signalled", "path", p.pidFile, "pid", pid)
			os.Remove(p.pidFile)
		}
		if foreground {
			if err := p.mkdirLog(); err != nil {
				return &exitError{Code: failureCode(err), Err: err}
			}
		}
		if recorder != nil {
			root, err := install.Open(p.Root, r.app.name)
			if err != nil {
				return &exitError{Code: ExitFailure, Err: err}
			}
			recorder.root = root
		}
		cln, err := control.Listen(p.socket)
		if err != nil {
			return &exitError{Code: failureCode(err), Err: err}
		}
		ctl = &control.Server{Handler: sup, Logger: log}
		go ctl.Serve(cln)
		log.Info("supervisor started", "pid", os.Getpid(), "version", r.app.version, "binary", exe, "foreground", foreground)
		return nil
	}
	sup, err = supervisor.New(supervisor.Config{
		Name: r.app.name, Version: r.app.version, Root: p.Root,
		Binary:              exe,
		Args:                []string{"start"},
		Env:                 genEnv,
		Dir:                 p.Root,
		Listeners:           listeners,
		Tmp:                 p.Tmp,
		PIDFile:             p.pidFile,
		Output:              childOut,
		Logger:              log,
		Notify:              notify,
		ReadyTimeout:        dcfg.ReadyTimeout,
		ReadyTimeoutSetting: "RELEASE_READY_TIMEOUT",
		StopTimeout:         dcfg.stopTimeout(),
		MaxRestarts:         maxRestarts(dcfg.HeartMaxRestarts),
		RestartWindow:       dcfg.HeartWindow,
		Recorder:            rec,
		Probation:           probation(dcfg.UpgradeProbation),
		ReapOrphans:         true,
		TrimBinary:          true,
		Started:             started,
		Signals:             sigs,
	})
	if err != nil {
		return fail(failureCode(err), err)
	}
	// From here on the supervisor's lines follow the app's lines written
	// before them (see supervisor.Supervisor.Logger).
	log = sup.Logger()
	if recorder != nil {
		recorder.log = log
	}

	err = sup.Run(ctx)
	var boot *supervisor.BootError
	var exit *exitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit):
		// started failed (Run has told the manager why): the app was
		// stopped.
		return exit
	case errors.As(err, &boot) && boot.Status > 0:
		return &exitError{Code: boot.Status, Err: err}
	default:
		return &exitError{Code: ExitFailure, Err: err}
	}
}

// failureCode is the exit code for err: ExitConfig when a runtime
// directory or a file in it is unsafe (the operator's setup to fix), else
// ExitFailure.
func failureCode(err error) int {
	var unsafeDir *securedir.Error
	if errors.As(err, &unsafeDir) || errors.Is(err, safefile.ErrNotRegular) {
		return ExitConfig
	}
	return ExitFailure
}

// maxRestarts maps RELEASE_HEART_MAX_RESTARTS (0: off) to the supervisor's
// convention (negative: off).
func maxRestarts(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// probation maps UPGRADE_PROBATION (0: off) to the supervisor's
// convention (negative: off).
func probation(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// redirectStdio points the process's stdout and stderr at the log file, so
// a panic of the supervisor lands in the current log, not a rotated one.
func redirectStdio(f *os.File) {
	raw, err := f.SyscallConn()
	if err != nil {
		return
	}
	raw.Control(func(fd uintptr) {
		dupTo(int(fd), 1)
		dupTo(int(fd), 2)
	})
}
