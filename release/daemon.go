package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/environ"
	"github.com/relkit/relkit/internal/handover"
	"github.com/relkit/relkit/internal/pidfile"
	"github.com/relkit/relkit/internal/relspec"
	"github.com/relkit/relkit/internal/safefile"
	"github.com/relkit/relkit/internal/sdnotify"
)

const daemonSummary = "start in the background, supervised (restarted after a crash); returns once the app is ready"

// daemonCommand starts the supervisor in a new session, detached from the
// terminal, and waits until it reports the app ready (READY=1 on a
// notification socket it is given) or exits. On failure it prints the
// reason and the tail of the log and exits with the supervisor's status.
type daemonCommand struct{}

func (c *daemonCommand) run(ctx context.Context, r *runner, args []string) error {
	if err := r.noArgs(r.flags("daemon", "", daemonSummary), args, "daemon"); err != nil {
		return err
	}
	dcfg, err := r.settings.Release()
	if err != nil {
		return err
	}
	p, err := r.settings.Paths()
	if err != nil {
		return err
	}
	if err := p.mkdirs(); err != nil {
		return &exitError{Code: failureCode(err), Err: err}
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	info, err := control.Ping(pctx, p.socket)
	cancel()
	if err == nil {
		return fmt.Errorf("%s is already running (pid %d); stop it first: %s stop", r.app.name, info.PID, r.app.name)
	}
	if pid, err := pidfile.Read(p.pidFile); err == nil {
		// Never signalled: whoever has that PID now did not answer as us.
		fmt.Fprintf(r.stderr, "%s: ignoring the stale PID file %s (pid %d does not answer on %s)\n", r.app.name, p.pidFile, pid, p.socket)
	}

	exe := r.exe
	// Never through a link or into a file planted by someone else.
	logf, err := safefile.Open(p.logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if errors.Is(err, safefile.ErrNotRegular) {
		return &exitError{Code: ExitConfig, Err: fmt.Errorf("log file %w. Fix: check who made it, remove it (rm %s), and make sure nobody but the release's user can write RELEASE_LOG_DIR", err, p.logFile)}
	}
	if err != nil {
		return fmt.Errorf("open the log file: %w (check RELEASE_LOG_DIR)", err)
	}
	// Where this boot's lines begin: a failure shows only those.
	bootStart, _ := logf.Seek(0, io.SeekEnd)
	defer logf.Close()
	recv, err := sdnotify.Listen(filepath.Join(p.Tmp, r.app.name+".daemon.notify"))
	if err != nil {
		return err
	}
	defer recv.Close()
	// The supervisor inherits the process environment, never this
	// release's env file: each release it runs reads its own.
	env := r.env.ForChild()
	env[relspec.EnvNotifySocket] = recv.Path()
	// Sockets systemd passed to this process go on to the supervisor.
	inherited, err := handover.Inherited(r.env.Map())
	if err != nil {
		return err
	}
	proc, err := handover.StartProcess(exe, []string{exe, superviseCommandName}, &os.ProcAttr{
		Dir: p.Root, Env: environ.List(env), Files: []*os.File{nil, logf, logf},
		Sys: &syscall.SysProcAttr{Setsid: true},
	}, inherited)
	for _, l := range inherited {
		l.Close()
	}
	if err != nil {
		return fmt.Errorf("start the supervisor: %w", err)
	}
	pid := proc.Pid

	exited := make(chan syscall.WaitStatus, 1)
	go func() {
		var ws syscall.WaitStatus
		if st, err := proc.Wait(); err == nil {
			ws, _ = st.Sys().(syscall.WaitStatus)
		}
		exited <- ws
	}()
	msgs := make(chan []string, 16)
	rctx, stopRecv := context.WithCancel(ctx)
	defer stopRecv()
	go func() {
		for {
			m, err := recv.Receive(rctx)
			if err != nil {
				return
			}
			msgs <- m
		}
	}()
	timeout := time.NewTimer(dcfg.ReadyTimeout + 15*time.Second)
	defer timeout.Stop()
	var status string
	for {
		select {
		case m := <-msgs:
			for _, kv := range m {
				if s, ok := strings.CutPrefix(kv, "STATUS="); ok {
					status = s
				}
				if kv == sdnotify.Ready {
					fmt.Fprintf(r.stdout, "%s %s started (pid %d); log: %s\n", r.app.name, r.app.version, pid, p.logFile)
					return nil
				}
			}
		case ws := <-exited:
			// Messages sent just before the exit are already queued.
			for len(msgs) > 0 {
				for _, kv := range <-msgs {
					if s, ok := strings.CutPrefix(kv, "STATUS="); ok {
						status = s
					}
				}
			}
			return r.bootFailure(p, status, ws, bootStart)
		case <-timeout.C:
			return fmt.Errorf("%s did not report ready within %v (pid %d is still starting; see %s, and raise RELEASE_READY_TIMEOUT if the boot is slow)", r.app.name, dcfg.ReadyTimeout+15*time.Second, pid, p.logFile)
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for %s (pid %d) to boot; it goes on in the background: %s pid / %s stop", r.app.name, pid, r.app.name, r.app.name)
		}
	}
}

// bootFailure explains a supervisor that exited before the app was ready:
// the reason it reported, then the app's own Error: lines (the cause, as
// the app printed it), then the last lines this boot wrote to the log
// (from offset bootStart), and its exit status.
func (r *runner) bootFailure(p runtimePaths, status string, ws syscall.WaitStatus, bootStart int64) error {
	code := ExitFailure
	if ws.Exited() && ws.ExitStatus() != 0 {
		code = ws.ExitStatus()
	}
	reason := status
	if reason == "" {
		reason = "the supervisor " + describeWait(ws)
	}
	lines := bootLines(p.logFile, bootStart)
	var b strings.Builder
	if cause := errorLines(lines); len(cause) > 0 {
		fmt.Fprintf(&b, "%s failed to start:\n  %s\n(%s)", r.app.name, strings.Join(cause, "\n  "), reason)
	} else {
		fmt.Fprintf(&b, "%s failed to start: %s", r.app.name, reason)
	}
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	if len(lines) > 0 {
		fmt.Fprintf(&b, "\nLast lines of this boot in %s:\n  %s", p.logFile, strings.Join(lines, "\n  "))
	}
	return &exitError{Code: code, Err: errors.New(b.String())}
}

// bootLines returns the lines written to the log file from offset on (from
// its start when it is shorter now, after a rotation), at most the last
// MiB of them.
func bootLines(path string, offset int64) []string {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	if st.Size() < offset {
		offset = 0
	}
	offset = max(offset, st.Size()-1<<20)
	b, err := io.ReadAll(io.NewSectionReader(f, offset, st.Size()-offset))
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// errorLines picks the app's Error: block out of its output: an "Error:"
// line, the indented lines after it and a "Try:" line.
func errorLines(lines []string) []string {
	var out []string
	in := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "Error: "):
			out, in = append(out, l), true
		case in && (strings.HasPrefix(l, "  ") || strings.HasPrefix(l, "Try: ")):
			out = append(out, l)
		default:
			in = false
		}
	}
	return out
}

func describeWait(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return fmt.Sprintf("was killed by %v", ws.Signal())
	}
	return fmt.Sprintf("exited with status %d", ws.ExitStatus())
}
