package release

import "syscall"

// becomeSubreaper makes orphans of the app's own children ours to reap
// (PR_SET_CHILD_SUBREAPER), as PID 1 in a container reaps everything.
func becomeSubreaper() {
	const prSetChildSubreaper = 36
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
}

func dupTo(from, to int) { syscall.Dup3(from, to, 0) }
