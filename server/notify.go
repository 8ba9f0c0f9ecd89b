package server

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/relspec"
	"github.com/relkit/relkit/internal/sdnotify"
)

// Variables of systemd's notification protocol (sd_notify(3),
// sd_watchdog_enabled(3)).
const (
	EnvNotifySocket = relspec.EnvNotifySocket
	EnvWatchdogUSec = relspec.EnvWatchdogUsec
	EnvWatchdogPID  = relspec.EnvWatchdogPID
)

// notifier tells systemd (or relkit's supervisor) about the server's state.
// Failures to notify are logged, never fatal: a missing notification
// socket must not take the service down.
type notifier struct {
	socket   string
	watchdog time.Duration // 0: no watchdog
	status   string        // "NAME VERSION"
	log      *slog.Logger
}

func newNotifier(env map[string]string, pid int, name, version string, log *slog.Logger) *notifier {
	n := &notifier{socket: env[EnvNotifySocket], log: log}
	n.status = strings.TrimSpace(name + " " + version)
	if n.socket == "" {
		return n
	}
	n.watchdog = watchdogInterval(env, pid, log)
	return n
}

// watchdogInterval returns WATCHDOG_USEC as a duration when it is meant
// for this process (WATCHDOG_PID unset or equal to pid), else 0.
func watchdogInterval(env map[string]string, pid int, log *slog.Logger) time.Duration {
	v, ok := env[EnvWatchdogUSec]
	if !ok {
		return 0
	}
	if p, ok := env[EnvWatchdogPID]; ok {
		if n, err := strconv.Atoi(p); err != nil || n != pid {
			return 0
		}
	}
	usec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || usec <= 0 {
		log.Warn("ignoring malformed watchdog interval; systemd's WatchdogSec= sets it",
			slog.String("var", EnvWatchdogUSec), slog.String("value", v))
		return 0
	}
	return time.Duration(usec) * time.Microsecond
}

func (n *notifier) send(state ...string) {
	if n.socket == "" {
		return
	}
	if err := sdnotify.Send(n.socket, state...); err != nil {
		n.log.Warn("systemd notification failed", slog.String("error", err.Error()))
	}
}

func (n *notifier) statusLine(what string) string {
	if n.status == "" {
		return "STATUS=" + what
	}
	return "STATUS=" + n.status + ": " + what
}

func (n *notifier) ready(addrs string) {
	n.send(sdnotify.Ready, n.statusLine("serving on "+addrs))
}

func (n *notifier) waiting(what string) { n.send(n.statusLine(what)) }

func (n *notifier) stopping() { n.send(sdnotify.Stopping, n.statusLine("draining")) }

// keepAlive sends WATCHDOG=1 at half the watchdog interval, as
// sd_watchdog_enabled(3) recommends, until ctx is done.
func (n *notifier) keepAlive(ctx context.Context) {
	if n.watchdog == 0 {
		return
	}
	t := time.NewTicker(n.watchdog / 2)
	defer t.Stop()
	n.send(sdnotify.Watchdog)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.send(sdnotify.Watchdog)
		}
	}
}
