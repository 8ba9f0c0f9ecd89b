package supervisor

import (
	"fmt"
	"os"
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

// trimBinary gives back this process's resident copy of its own binary's
// read-only pages (madvise MADV_DONTNEED on its private, read-only, never
// written mappings of /proc/self/exe) and returns how many kB were
// resident there. The pages stay in the page cache, where the app, the
// same file, maps them; what the supervisor touches again comes back by a
// minor fault. A binary whose read-only pages may have been written at
// load time (position-independent or dynamically linked) is left alone:
// errNotStatic.
func trimBinary() (int64, error) {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := checkStaticExec(f); err != nil {
		return 0, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0, fmt.Errorf("stat /proc/self/exe: %w", err)
	}
	smaps, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	regions, err := binaryRegions(smaps, unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	smaps.Close()
	if err != nil {
		return 0, err
	}
	var kB int64
	for _, r := range regions {
		// By address: the mapping is the program's own, never Go memory.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(r.start), uintptr(r.end-r.start), unix.MADV_DONTNEED); errno != 0 {
			return kB, fmt.Errorf("madvise %#x-%#x: %w", r.start, r.end, errno)
		}
		kB += r.rssKB
	}
	return kB, nil
}

// outputPipe is the pipe a generation writes its output into, and how
// many bytes it holds. Its read end is left blocking, outside the
// runtime's poller: with the poller, every write of the app would wake the
// supervisor (an edge-triggered event per line) even while the coalescer
// lets lines collect. It is asked to hold outputPipeSize bytes; where the
// system refuses (fs.pipe-max-size, pipe-user-pages-soft) it keeps what it
// has, and the coalescer waits less (see coalesceWaitFor).
func outputPipe() (r, w *os.File, size int, err error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, 0, os.NewSyscallError("pipe2", err)
	}
	size, err = unix.FcntlInt(uintptr(fds[1]), unix.F_SETPIPE_SZ, outputPipeSize)
	if err != nil {
		size, err = unix.FcntlInt(uintptr(fds[1]), unix.F_GETPIPE_SZ, 0)
		if err != nil {
			size = 64 << 10 // Linux's default
		}
	}
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), size, nil
}
