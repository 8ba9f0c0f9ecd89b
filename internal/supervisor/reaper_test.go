package supervisor

import (
	"syscall"
	"testing"
	"time"
)

// Not parallel: a reaper that reaps every child must not run while other
// tests wait for theirs.
func TestReaperReapsOrphans(t *testing.T) {
	r := newReaper(true)
	defer r.close()

	// A child nobody registered, as an orphan re-parented to PID 1 is.
	orphan, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", "exit 0"}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	// A registered child gets its status.
	pid, status, err := r.start(func() (int, error) {
		return syscall.ForkExec("/bin/sh", []string{"sh", "-c", "exit 7"}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ws := <-status:
		if want, got := 7, ws.ExitStatus(); want != got {
			t.Errorf("registered child %d: want exit status %d, got %d", pid, want, got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the registered child's status never arrived")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(orphan, &ws, syscall.WNOHANG, nil)
		if err == syscall.ECHILD {
			break // reaped: no zombie left
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphan %d was not reaped (left a zombie)", orphan)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r.signal(pid, syscall.SIGTERM) {
		t.Errorf("signal to reaped pid %d: want refused (the pid may be reused), got sent", pid)
	}
}
