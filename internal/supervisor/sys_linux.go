package supervisor

import (
	"strconv"
	"syscall"
	"unsafe"
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
	var ts syscall.Timespec
	const clockMonotonic = 1
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0)
	return "MONOTONIC_USEC=" + strconv.FormatInt(ts.Nano()/1000, 10)
}
