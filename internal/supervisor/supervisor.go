package supervisor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/pidfile"
	"github.com/relkit/relkit/internal/sdnotify"
)

// Supervisor runs an app as a child process and keeps it running: it owns
// the listening sockets and hands them to each generation of the app,
// restarts it after a crash (the heart), replaces it without dropping a
// connection on restart, and stops it gracefully. Create one with [New],
// run it with [Supervisor.Run].
type Supervisor struct {
	cfg     Config
	started time.Time
	reaper  *reaper

	// instance is made on first use (Info), off the path to the first
	// generation's start: reading the system's random source costs.
	instanceOnce sync.Once
	instance     string

	restarts chan restartRequest
	stopOnce sync.Once
	stopc    chan struct{}
	done     chan struct{}

	mu        sync.Mutex
	trimTimer *time.Timer // see scheduleTrim
	cur       *generation
	next      int
	live      map[*generation]struct{}
	rel       Release // what the next generation runs

	outMu sync.Mutex
	outs  map[*coalescer]struct{} // the live generations' output readers
}

// Release is what a generation runs.
type Release struct {
	// Binary is the path of the program.
	Binary string
	// Version is the release version ping reports while it runs.
	Version string
}

type restartRequest struct {
	ctx context.Context
	// rel is the release to switch to; nil: the current one (restart).
	rel *Release
	// timeout bounds the new generation's boot; 0: ReadyTimeout.
	timeout time.Duration
	reply   chan restartReply
}

type restartReply struct {
	pid int
	err error
}

// New checks cfg and returns a Supervisor for it.
func New(cfg Config) (*Supervisor, error) {
	switch {
	case cfg.Name == "":
		return nil, errors.New("supervisor: Config.Name is required")
	case cfg.Binary == "":
		return nil, errors.New("supervisor: Config.Binary is required")
	case cfg.Tmp == "":
		return nil, errors.New("supervisor: Config.Tmp is required")
	}
	s := &Supervisor{
		rel:      Release{Binary: cfg.Binary, Version: cfg.Version},
		cfg:      cfg.withDefaults(),
		started:  time.Now(),
		restarts: make(chan restartRequest),
		stopc:    make(chan struct{}),
		done:     make(chan struct{}),
		live:     map[*generation]struct{}{},
		outs:     map[*coalescer]struct{}{},
	}
	s.cfg.Logger = slog.New(&flushHandler{h: s.cfg.Logger.Handler(), s: s})
	return s, nil
}

// Logger is the supervisor's logger: Config.Logger, each of whose lines
// first passes on what the app has written before it. Log through it
// what should read in order with the app's output.
func (s *Supervisor) Logger() *slog.Logger { return s.cfg.Logger }

// flushOutputs passes on what the live generations have written and the
// supervisor has not read yet (see coalescer.flush), before a line of its
// own.
func (s *Supervisor) flushOutputs() {
	s.outMu.Lock()
	outs := slices.Collect(maps.Keys(s.outs))
	s.outMu.Unlock()
	for _, c := range outs {
		c.flush(flushTimeout)
	}
}

// flushHandler is the supervisor's logger: each of its lines follows the
// app's lines written before it.
type flushHandler struct {
	h slog.Handler
	s *Supervisor
}

func (f *flushHandler) Enabled(ctx context.Context, l slog.Level) bool { return f.h.Enabled(ctx, l) }

func (f *flushHandler) Handle(ctx context.Context, r slog.Record) error {
	f.s.flushOutputs()
	return f.h.Handle(ctx, r)
}

func (f *flushHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &flushHandler{h: f.h.WithAttrs(as), s: f.s}
}

func (f *flushHandler) WithGroup(name string) slog.Handler {
	return &flushHandler{h: f.h.WithGroup(name), s: f.s}
}

// Run starts the first generation, calls [Config].Started, and waits until
// the generation is ready, writes the PID file and tells its manager
// READY=1, then supervises until it is stopped (ctx cancelled,
// [Supervisor.Stop], a stop request or signal). It returns nil after a
// graceful stop, a [*BootError] when the first generation never became
// ready, Started's error (the generation stopped), and an error wrapping
// [ErrGaveUp] when the app crashed too often. The PID file is removed in
// every case.
func (s *Supervisor) Run(ctx context.Context) error {
	defer close(s.done)
	defer s.stopTrim()
	s.reaper = newIdleReaper(s.cfg.ReapOrphans)
	defer s.reaper.close()
	if s.cfg.PIDFile != "" {
		defer pidfile.Remove(s.cfg.PIDFile, os.Getpid())
	}
	sigDone := make(chan struct{})
	defer close(sigDone)

	log := s.cfg.Logger
	// The app first: what follows runs while it boots.
	g := s.boot(s.release(), "")
	s.reaper.run()
	go s.handleSignals(ctx, sigDone)
	s.notify("STATUS=starting " + s.cfg.Name)
	if s.cfg.Started != nil {
		if err := s.cfg.Started(); err != nil {
			s.stopGen(g)
			s.notify("STATUS=" + err.Error())
			return err
		}
	}
	if err := s.waitReady(g, s.stopc, s.cfg.ReadyTimeout, s.cfg.ReadyTimeoutSetting); err != nil {
		s.finish(g)
		log.Error("the app failed to boot", "err", err)
		s.notify("STATUS=boot failed: " + err.Error())
		return &BootError{Err: err, Status: g.exitCode()}
	}
	s.setCurrent(g)
	if s.cfg.PIDFile != "" {
		if err := pidfile.Write(s.cfg.PIDFile, os.Getpid()); err != nil {
			s.shutdown("the PID file could not be written")
			return err
		}
	}
	log.Info("app ready", "generation", g.n, "pid", g.pid, "took", time.Since(g.started).Round(time.Millisecond).String())
	s.notifyReady(g)

	var crashes []time.Time
	// probation is the window after an upgrade in which a crash of the
	// new release switches back to prev.
	var probation struct {
		until time.Time
		prev  *Release
	}
	for {
		select {
		case <-ctx.Done():
			return s.shutdown(context.Cause(ctx).Error())
		case <-s.stopc:
			return s.shutdown("stop requested")
		case req := <-s.restarts:
			prev := g.rel
			ng, err := s.restart(req, g)
			if err == nil {
				if req.rel != nil && s.cfg.Probation > 0 {
					probation.until, probation.prev = time.Now().Add(s.cfg.Probation), &prev
				} else if req.rel != nil {
					probation.prev = nil
				}
				g = ng
				req.reply <- restartReply{pid: ng.pid}
			} else {
				req.reply <- restartReply{err: err}
			}
		case <-g.exited:
			s.finish(g)
			now := time.Now()
			crashes = append(crashes, now)
			for len(crashes) > 0 && now.Sub(crashes[0]) > s.cfg.RestartWindow {
				crashes = crashes[1:]
			}
			up := now.Sub(g.started).Round(time.Millisecond)
			if probation.prev != nil && now.Before(probation.until) {
				prev := *probation.prev
				probation.prev = nil
				ng, err := s.rollback(g, prev)
				if err == nil {
					g = ng
					continue
				}
				// The previous release did not boot either: the heart
				// goes on with it as the current release.
				g = ng
				log.Error("probation: the previous release failed to boot; the heart restarts it", "version", prev.Version, "err", err)
				continue
			}
			log.Error("app crashed", "generation", g.n, "pid", g.pid, "how", g.describe(), "uptime", up.String(), "crashes_in_window", len(crashes))
			if s.cfg.MaxRestarts < 0 || len(crashes) > s.cfg.MaxRestarts {
				err := fmt.Errorf("%w: %s crashed %d times within %v (last: generation %d %s); not restarting it again (raise RELEASE_HEART_MAX_RESTARTS or fix the crash: see the log above)",
					ErrGaveUp, s.cfg.Name, len(crashes), s.cfg.RestartWindow, g.n, g.describe())
				if s.cfg.MaxRestarts < 0 {
					err = fmt.Errorf("%w: %s %s and restarts are off (RELEASE_HEART_MAX_RESTARTS=0)", ErrGaveUp, s.cfg.Name, g.describe())
				}
				log.Error(err.Error())
				s.notify("STATUS=" + err.Error())
				s.setCurrent(nil)
				s.stopAll()
				return err
			}
			delay := min(s.cfg.Backoff<<(len(crashes)-1), s.cfg.MaxBackoff)
			log.Warn("heart: restarting the app", "in", delay.String())
			s.notify(fmt.Sprintf("STATUS=restarting after a crash (%s)", g.describe()))
			s.setCurrent(nil)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return s.shutdown(context.Cause(ctx).Error())
			case <-s.stopc:
				t.Stop()
				return s.shutdown("stop requested")
			}
			g = s.boot(s.release(), "")
			if err := s.waitReady(g, s.stopc, s.cfg.ReadyTimeout, s.cfg.ReadyTimeoutSetting); err != nil {
				log.Error("restarted app failed to boot", "err", err)
				// g has exited: the next round counts it as a crash.
				continue
			}
			s.setCurrent(g)
			log.Info("app ready", "generation", g.n, "pid", g.pid, "took", time.Since(g.started).Round(time.Millisecond).String())
			s.notifyReady(g)
		}
	}
}

// boot starts the next generation from rel, handed the state in the file
// handoff ("" for none).
func (s *Supervisor) boot(rel Release, handoff string) *generation {
	s.mu.Lock()
	s.next++
	n := s.next
	s.mu.Unlock()
	g := s.spawn(n, rel, handoff)
	if g.spawnErr == nil {
		s.mu.Lock()
		s.live[g] = struct{}{}
		s.mu.Unlock()
		s.cfg.Logger.Info("app starting", "generation", n, "pid", g.pid, "version", rel.Version, "binary", rel.Binary)
	}
	return g
}

// release returns what the next generation runs.
func (s *Supervisor) release() Release {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rel
}

// restart replaces old with a new generation of req.rel (the current
// release when nil): take the state old hands over, start the new one with
// the same sockets, wait until it is ready, then stop old gracefully. When
// the new one fails, it is stopped and old keeps serving; the error is a
// [*SwitchError].
func (s *Supervisor) restart(req restartRequest, old *generation) (*generation, error) {
	log := s.cfg.Logger
	rel, what := s.release(), "restart"
	if req.rel != nil {
		rel, what = *req.rel, "upgrade"
	}
	timeout, setting := req.timeout, ""
	if timeout <= 0 {
		timeout, setting = s.cfg.ReadyTimeout, s.cfg.ReadyTimeoutSetting
	}
	log.Info(what+": starting a new generation", "version", rel.Version, "old_generation", old.n, "old_pid", old.pid, "old_version", old.rel.Version)
	status := "STATUS=restarting"
	if req.rel != nil {
		status = fmt.Sprintf("STATUS=switching from %s to %s", old.rel.Version, rel.Version)
	}
	s.notify(sdnotify.Reloading, monotonicUsec(), status)
	began := time.Now()
	fail := func(ng *generation, err error) (*generation, error) {
		log.Error(what+" failed; the old generation keeps serving", "err", err, "version", rel.Version)
		if req.rel != nil {
			s.record(SwitchRecord{Op: what, From: old.rel, To: rel, Started: began, Err: err})
		}
		s.notifyReady(old)
		se := &SwitchError{Op: what, Release: rel, Serving: old.n, ServingVersion: old.rel.Version, Err: err}
		select {
		case <-s.stopc:
			se.Stopping = true
		default:
		}
		if ng != nil {
			se.Output = ng.tail.lines()
		}
		return nil, se
	}
	// A stop request, or the requester giving up, abandons the new
	// generation; the old one is untouched until the new one is ready.
	abort := make(chan struct{})
	var once sync.Once
	closeAbort := func() { once.Do(func() { close(abort) }) }
	defer context.AfterFunc(req.ctx, closeAbort)()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-s.stopc:
			closeAbort()
		case <-finished:
		}
	}()
	hctx, hcancel := context.WithCancel(req.ctx)
	defer hcancel()
	go func() {
		select {
		case <-abort:
			hcancel()
		case <-finished:
		}
	}()
	handoff, cleanup, err := s.takeHandoff(hctx, old)
	defer cleanup()
	if err != nil {
		return fail(nil, err)
	}
	ng := s.boot(rel, handoff)
	if err := s.waitReady(ng, abort, timeout, setting); err != nil {
		s.finish(ng)
		return fail(ng, err)
	}
	select {
	case <-abort:
		// Ready at the moment the requester gave up (or a stop came): the
		// requester may already have concluded that the switch failed and
		// removed the release's files, so never complete it now.
		s.stopGen(ng)
		return fail(ng, fmt.Errorf("%w: generation %d became ready as the %s was called off", ErrNotReady, ng.n, what))
	default:
	}
	if req.rel != nil {
		// The new release is ready: commit the switch now, whatever
		// happens to the requester from here on.
		if err := s.commit(rel); err != nil {
			s.stopGen(ng)
			return fail(ng, fmt.Errorf("generation %d is ready, but the switch could not be recorded, so it was called off: %w", ng.n, err))
		}
		s.record(SwitchRecord{Op: what, From: old.rel, To: rel, Started: began})
	}
	s.mu.Lock()
	s.rel = rel
	s.mu.Unlock()
	s.setCurrent(ng)
	log.Info(what+": new generation ready; stopping the old one", "generation", ng.n, "pid", ng.pid, "version", rel.Version, "old_pid", old.pid)
	s.stopGen(old)
	log.Info(what+": done", "generation", ng.n, "pid", ng.pid, "version", rel.Version)
	s.notifyReady(ng)
	return ng, nil
}

// shutdown stops every generation gracefully and returns nil.
func (s *Supervisor) shutdown(reason string) error {
	s.cfg.Logger.Info("stopping", "reason", reason)
	s.notify(sdnotify.Stopping, "STATUS=stopping")
	s.setCurrent(nil)
	s.stopAll()
	s.cfg.Logger.Info("stopped")
	return nil
}

func (s *Supervisor) stopAll() {
	s.mu.Lock()
	gs := make([]*generation, 0, len(s.live))
	for g := range s.live {
		gs = append(gs, g)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, g := range gs {
		wg.Add(1)
		go func() { defer wg.Done(); s.stopGen(g) }()
	}
	wg.Wait()
}

// handleSignals turns Config.Signals into actions until done.
func (s *Supervisor) handleSignals(ctx context.Context, done <-chan struct{}) {
	stopping := false
	for {
		select {
		case <-done:
			return
		case sig := <-s.cfg.Signals:
			switch sig {
			case syscall.SIGHUP:
				go func() {
					if _, err := s.Restart(ctx); err != nil {
						s.cfg.Logger.Error("SIGHUP restart failed", "err", err)
					}
				}()
			case syscall.SIGUSR1, syscall.SIGUSR2:
				if g := s.current(); g != nil {
					s.cfg.Logger.Info("passing the signal on to the app", "signal", sig.String(), "generation", g.n, "pid", g.pid)
					s.reaper.signal(g.pid, sig.(syscall.Signal))
				}
			case syscall.SIGTERM, syscall.SIGINT:
				if stopping {
					s.cfg.Logger.Warn("second signal: killing the app now", "signal", sig.String())
					s.kill()
					continue
				}
				stopping = true
				s.cfg.Logger.Info("signal received: stopping gracefully (a second one kills)", "signal", sig.String())
				s.Stop()
			}
		}
	}
}

// kill sends SIGKILL to every generation.
func (s *Supervisor) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for g := range s.live {
		s.reaper.signal(g.pid, syscall.SIGKILL)
	}
}

// Stop asks Run to stop the app gracefully and return. It does not wait;
// see [Supervisor.Done].
func (s *Supervisor) Stop() { s.stopOnce.Do(func() { close(s.stopc) }) }

// Done is closed when Run has returned.
func (s *Supervisor) Done() <-chan struct{} { return s.done }

// Restart replaces the running generation with a new one of the same
// release without closing the listening sockets, and returns the new
// generation's PID. It fails with a [*SwitchError], leaving the old
// generation serving, when the new one does not become ready.
func (s *Supervisor) Restart(ctx context.Context) (int, error) {
	return s.replace(restartRequest{ctx: ctx})
}

// Upgrade switches the system to rel: it starts rel's binary as a new
// generation on the same sockets (with the state the running one hands
// over), waits up to readyTimeout (0: Config.ReadyTimeout) for it to be
// ready, then stops the old generation gracefully, and returns the new
// generation's PID. From then on rel is the current release: restarts and
// crash recovery start its binary, and ping reports its version. When the
// new generation exits, times out or is stopped first, it fails with a
// [*SwitchError] carrying the new release's last lines of output, and the
// old generation keeps serving.
func (s *Supervisor) Upgrade(ctx context.Context, rel Release, readyTimeout time.Duration) (int, error) {
	if rel.Binary == "" {
		return 0, errors.New("upgrade: Release.Binary is required")
	}
	return s.replace(restartRequest{ctx: ctx, rel: &rel, timeout: readyTimeout})
}

func (s *Supervisor) replace(req restartRequest) (int, error) {
	ctx := req.ctx
	req.reply = make(chan restartReply, 1)
	what := "restart"
	if req.rel != nil {
		what = "upgrade"
	}
	select {
	case s.restarts <- req:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-s.stopc:
		return 0, errors.New(what + ": the system is stopping")
	case <-s.done:
		return 0, errors.New(what + ": the system has stopped")
	}
	r := <-req.reply
	return r.pid, r.err
}

func (s *Supervisor) current() *generation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *Supervisor) setCurrent(g *generation) {
	s.mu.Lock()
	s.cur = g
	s.mu.Unlock()
}

// Info describes the supervisor for ping.
func (s *Supervisor) Info() control.Info {
	info := control.Info{
		Name:     s.cfg.Name,
		Version:  s.release().Version,
		PID:      os.Getpid(),
		Mode:     control.ModeSupervisor,
		Root:     s.cfg.Root,
		Started:  s.started,
		Instance: s.instanceID(),
		Protocol: control.Version,
		Ops:      []string{control.OpPing, control.OpPID, control.OpStop, control.OpRestart, control.OpRPC, control.OpUpgrade, control.OpMaintenance, control.OpDebug},
	}
	if g := s.current(); g != nil {
		info.Generation, info.ChildPID, info.Version = g.n, g.pid, g.rel.Version
	}
	return info
}

// instanceID identifies this supervisor's run for ping: random, made once.
func (s *Supervisor) instanceID() string {
	s.instanceOnce.Do(func() {
		var id [8]byte
		rand.Read(id[:])
		s.instance = hex.EncodeToString(id[:])
	})
	return s.instance
}

func (s *Supervisor) notify(states ...string) {
	if err := sdnotify.Send(s.cfg.Notify, states...); err != nil {
		s.cfg.Logger.Debug("notify the service manager", "err", err)
	}
}

// notifyReady tells the manager that g serves, after a boot or a switch
// (or a failed switch, the old generation serving on): the supervisor goes
// idle, so it trims its memory (Config.TrimBinary).
func (s *Supervisor) notifyReady(g *generation) {
	s.notify(sdnotify.Ready, "MAINPID="+strconv.Itoa(os.Getpid()),
		fmt.Sprintf("STATUS=%s %s serving (generation %d, pid %d)", s.cfg.Name, g.rel.Version, g.n, g.pid))
	s.scheduleTrim()
}

// trimDelay is how long after a generation became ready the supervisor
// trims its memory: not while the app serves its first requests, on the
// same CPUs (reading smaps and faulting back what it touches again cost
// the supervisor about 5 ms of CPU on examples/hello).
const trimDelay = 500 * time.Millisecond

// scheduleTrim has trim run trimDelay from now (Config.TrimBinary).
func (s *Supervisor) scheduleTrim() {
	if !s.cfg.TrimBinary {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.trimTimer == nil {
		s.trimTimer = time.AfterFunc(trimDelay, s.trim)
		return
	}
	s.trimTimer.Reset(trimDelay)
}

// stopTrim cancels a scheduled trim.
func (s *Supervisor) stopTrim() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.trimTimer != nil {
		s.trimTimer.Stop()
	}
}

// trim gives back the supervisor's copy of its binary's read-only pages.
func (s *Supervisor) trim() {
	kB, err := trimBinary()
	if err != nil {
		s.cfg.Logger.Debug("memory: the binary's pages stay resident", "err", err)
		return
	}
	s.cfg.Logger.Debug("memory: gave back this process's copy of the binary's read-only pages", "resident_kB", kB)
}
