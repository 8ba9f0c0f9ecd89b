//go:build !linux

package supervisor

import (
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"
)

// childAttr are the process attributes of a generation. Without
// Pdeathsig, a generation outlives a supervisor that is killed.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

var processStart = time.Now()

// monotonicUsec approximates MONOTONIC_USEC; only systemd reads it.
func monotonicUsec() string {
	return "MONOTONIC_USEC=" + strconv.FormatInt(time.Since(processStart).Microseconds(), 10)
}

// BecomeSubreaper does nothing where there are no child subreapers.
func BecomeSubreaper() error { return nil }

// trimBinary does nothing outside Linux.
func trimBinary() (int64, error) { return 0, errors.ErrUnsupported }

// outputPipe is the pipe a generation writes its output into, and the
// bytes it holds at least (16 KiB on macOS and the BSDs).
func outputPipe() (r, w *os.File, size int, err error) {
	r, w, err = os.Pipe()
	return r, w, 16 << 10, err
}
