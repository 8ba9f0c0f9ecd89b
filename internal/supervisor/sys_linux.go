package supervisor

import (
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// childAttr are the process attributes of a generation.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		// Its own process group: a terminal's ^C reaches the supervisor
		// only, which decides what the app gets.
		Setpgid: true,
		// If the supervisor dies, the app drains and exits rather than
		// holding the port forever.
		Pdeathsig: syscall.SIGTERM,
	}
}

// monotonicUsec is the MONOTONIC_USEC= field systemd wants with
// RELOADING=1 (Type=notify-reload).
func monotonicUsec() string {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return "MONOTONIC_USEC=" + strconv.FormatInt(ts.Nano()/1000, 10)
}

// BecomeSubreaper makes orphans of this process's descendants its
// children to reap (PR_SET_CHILD_SUBREAPER), as PID 1 in a container reaps
// everything; set Config.ReapOrphans with it.
func BecomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}
