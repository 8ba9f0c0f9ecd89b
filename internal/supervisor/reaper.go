package supervisor

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// reaper collects the exit status of child processes. It waits on SIGCHLD
// (with a slow tick as a safety net) and reaps under a lock that starting a
// child also holds, so a child is always registered before it can be reaped
// and a registered PID is never signalled after it was reaped (and maybe
// reused).
//
// With all set it reaps every child (wait4(-1)), as PID 1 in a container or
// a child subreaper must, handing known PIDs their status and discarding
// orphans'. Without it only registered PIDs are waited for, so it never
// steals the status of a process another part of the program started.
type reaper struct {
	all  bool
	sigc chan os.Signal
	quit chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	waiting map[int]chan syscall.WaitStatus
	orphans int
	running bool
}

// newReaper returns a reaper that reaps.
func newReaper(all bool) *reaper {
	r := newIdleReaper(all)
	r.run()
	return r
}

// newIdleReaper returns a reaper that registers children (start) but
// reaps none until run: a supervisor starts the app first, and has the
// reaper subscribe to SIGCHLD (a round trip to the runtime's signal
// thread) while the app boots.
func newIdleReaper(all bool) *reaper {
	return &reaper{
		all:     all,
		sigc:    make(chan os.Signal, 1),
		quit:    make(chan struct{}),
		waiting: map[int]chan syscall.WaitStatus{},
	}
}

// run starts reaping. A child that exited before has its status
// collected at once.
func (r *reaper) run() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		return
	}
	r.running = true
	r.wg.Add(1)
	go r.loop()
}

func (r *reaper) loop() {
	defer r.wg.Done()
	signal.Notify(r.sigc, syscall.SIGCHLD)
	defer signal.Stop(r.sigc)
	// What exited before the subscription sent a SIGCHLD nobody got.
	r.reap()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.quit:
			return
		case <-r.sigc:
		case <-tick.C:
		}
		r.reap()
	}
}

func (r *reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.all {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if pid <= 0 {
				return
			}
			if ch, ok := r.waiting[pid]; ok {
				delete(r.waiting, pid)
				ch <- ws
			} else {
				r.orphans++
			}
		}
	}
	for pid, ch := range r.waiting {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		for err == syscall.EINTR {
			got, err = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		}
		switch {
		case got == pid:
		case err == syscall.ECHILD:
			ws = syscall.WaitStatus(0xff00) // reaped elsewhere: status unknown (255)
		default:
			continue
		}
		delete(r.waiting, pid)
		ch <- ws
	}
}

// start runs fn (which starts a child and returns its PID) with the lock
// held, and registers the child. The returned channel receives its status.
func (r *reaper) start(fn func() (int, error)) (int, <-chan syscall.WaitStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := fn()
	if err != nil {
		return 0, nil, err
	}
	ch := make(chan syscall.WaitStatus, 1)
	r.waiting[pid] = ch
	return pid, ch, nil
}

// signal sends sig to pid if it is a registered child not yet reaped.
func (r *reaper) signal(pid int, sig syscall.Signal) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.waiting[pid]; !ok {
		return false
	}
	return syscall.Kill(pid, sig) == nil
}

// close stops reaping.
func (r *reaper) close() {
	close(r.quit)
	r.wg.Wait()
}
