package supervisor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/environ"
	"github.com/relkit/relkit/internal/handover"
	"github.com/relkit/relkit/internal/sdnotify"
	"github.com/relkit/relkit/internal/supervised"
)

// tailLines is how many lines of a generation's output a failed switch
// reports.
const tailLines = 20

// generation is one app process.
type generation struct {
	n       int
	pid     int
	rel     Release
	started time.Time
	control string     // its control socket
	tail    *tail      // its last lines of output
	out     *coalescer // reads its output pipe

	ready     chan struct{} // closed on READY=1
	readyOnce sync.Once
	exited    chan struct{} // closed once reaped
	status    syscall.WaitStatus
	spawnErr  error // the process could not be started

	cancel context.CancelFunc // stops the notification reader
	wg     sync.WaitGroup     // notification reader and output copier
}

// describe says how the generation ended, e.g. "exited with status 3".
func (g *generation) describe() string {
	if g.spawnErr != nil {
		return "could not be started: " + g.spawnErr.Error()
	}
	return describeStatus(g.status)
}

func describeStatus(ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exited with status %d", ws.ExitStatus())
	case ws.Signaled():
		return fmt.Sprintf("was killed by signal %d (%v)", int(ws.Signal()), ws.Signal())
	default:
		return fmt.Sprintf("ended with wait status %#x", uint32(ws))
	}
}

// exitCode is the generation's exit status, or -1 when it did not exit
// normally.
func (g *generation) exitCode() int {
	if g.spawnErr == nil && g.status.Exited() {
		return g.status.ExitStatus()
	}
	return -1
}

func (g *generation) hasExited() bool {
	select {
	case <-g.exited:
		return true
	default:
		return false
	}
}

// socketPath returns Tmp/NAME.N.suffix, checked against the kernel's limit.
func (s *Supervisor) socketPath(n int, suffix string) (string, error) {
	p := filepath.Join(s.cfg.Tmp, s.cfg.Name+"."+strconv.Itoa(n)+"."+suffix)
	if len(p) > control.MaxPath {
		return "", fmt.Errorf("socket path %s is %d bytes, longer than the %d a Unix socket allows: set RELEASE_TMP to a shorter directory", p, len(p), control.MaxPath)
	}
	return p, nil
}

// spawn starts generation n of rel, handed the state in the file handoff
// ("" for none). A generation that could not be started is returned
// already exited, with spawnErr set.
func (s *Supervisor) spawn(n int, rel Release, handoff string) *generation {
	g := &generation{n: n, rel: rel, started: time.Now(), ready: make(chan struct{}), exited: make(chan struct{}), tail: newTail(tailLines)}
	fail := func(err error) *generation {
		g.spawnErr = err
		close(g.exited)
		return g
	}
	notifyPath, err := s.socketPath(n, "notify")
	if err != nil {
		return fail(err)
	}
	g.control, err = s.socketPath(n, "sock")
	if err != nil {
		return fail(err)
	}
	os.Remove(g.control) // a stale one from an earlier run
	recv, err := sdnotify.Listen(notifyPath)
	if err != nil {
		return fail(err)
	}
	pr, pw, pipeSize, err := outputPipe()
	if err != nil {
		recv.Close()
		return fail(err)
	}

	// The release's own environment file beneath the process
	// environment, so the runtime and libraries see it; then what the
	// supervisor tells every generation.
	env := environ.ForRelease(s.cfg.Env, rel.Binary, s.cfg.Dir)
	supervised.Generation{Number: n, ControlSocket: g.control, Notify: recv.Path(), HandoffFile: handoff}.Env(env)
	argv := append([]string{rel.Binary}, s.cfg.Args...)
	pid, statusc, err := s.reaper.start(func() (int, error) {
		p, err := handover.StartProcess(rel.Binary, argv, &os.ProcAttr{
			Dir:   s.cfg.Dir,
			Env:   environ.List(env),
			Files: []*os.File{nil, pw, pw},
			Sys:   childAttr(),
		}, s.cfg.Listeners)
		if err != nil {
			return 0, err
		}
		// The reaper waits for the child by its pid; the handle (a pidfd
		// on Linux) is not needed.
		pid := p.Pid
		p.Release()
		return pid, nil
	})
	pw.Close()
	if err != nil {
		pr.Close()
		recv.Close()
		return fail(err)
	}
	g.pid = pid
	g.out = newCoalescer(pr, coalesceWaitFor(pipeSize))

	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	g.wg.Add(2)
	s.outMu.Lock()
	s.outs[g.out] = struct{}{}
	s.outMu.Unlock()
	go func() {
		defer g.wg.Done()
		defer func() {
			s.outMu.Lock()
			delete(s.outs, g.out)
			s.outMu.Unlock()
		}()
		// Under a steady stream of lines (an access log under load),
		// read every few milliseconds, not once per line.
		copyLines(io.MultiWriter(s.cfg.Output, g.tail), g.out)
		pr.Close()
		// The generation is gone: what it wrote last, often why it
		// died, is not left waiting in a batch of Output.
		if f, ok := s.cfg.Output.(interface{ Flush() error }); ok {
			f.Flush()
		}
	}()
	go func() {
		defer g.wg.Done()
		defer recv.Close()
		s.readNotifications(ctx, g, recv)
	}()
	go func() {
		g.status = <-statusc
		cancel()
		close(g.exited)
	}()
	return g
}

// readNotifications handles a generation's sd_notify messages until ctx is
// done: READY=1 marks it ready; STATUS= of the current generation goes on
// to the supervisor's own manager.
func (s *Supervisor) readNotifications(ctx context.Context, g *generation, recv *sdnotify.Receiver) {
	for {
		msg, err := recv.Receive(ctx)
		if err != nil {
			return
		}
		for _, kv := range msg {
			switch {
			case kv == sdnotify.Ready:
				g.readyOnce.Do(func() { close(g.ready) })
			case strings.HasPrefix(kv, "STATUS="):
				if s.current() == g {
					s.notify(kv)
				}
			}
		}
	}
}

// waitReady waits until g is ready. It fails when g exits first, when
// timeout passes, or when abort is closed; g is then stopped.
func (s *Supervisor) waitReady(g *generation, abort <-chan struct{}, timeout time.Duration, setting string) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-g.ready:
		return nil
	case <-g.exited:
		return fmt.Errorf("%w: generation %d %s before it was ready", ErrNotReady, g.n, g.describe())
	case <-t.C:
		s.stopGen(g)
		hint := ""
		if setting != "" {
			hint = " (raise " + setting + " if it needs longer to boot)"
		}
		return fmt.Errorf("%w: generation %d (pid %d) did not report ready within %v%s; it was stopped", ErrNotReady, g.n, g.pid, timeout, hint)
	case <-abort:
		s.stopGen(g)
		return fmt.Errorf("%w: generation %d was stopped while booting", ErrNotReady, g.n)
	}
}

// stopGen stops g gracefully: SIGTERM, then SIGKILL after StopTimeout. It
// returns once g has exited and its output is drained.
func (s *Supervisor) stopGen(g *generation) {
	if !g.hasExited() {
		s.reaper.signal(g.pid, syscall.SIGTERM)
		t := time.NewTimer(s.cfg.StopTimeout)
		select {
		case <-g.exited:
		case <-t.C:
			s.cfg.Logger.Warn("app did not stop in time; killing it", "generation", g.n, "pid", g.pid, "timeout", s.cfg.StopTimeout.String())
			s.reaper.signal(g.pid, syscall.SIGKILL)
			<-g.exited
		}
		t.Stop()
	}
	s.finish(g)
}

// finish waits for g's helpers and removes what it left behind.
func (s *Supervisor) finish(g *generation) {
	<-g.exited
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		// A grandchild holds the output pipe; its lines keep flowing,
		// and the copier keeps a thread in read(2) (the pipe is outside
		// the poller, see outputPipe) until the last writer lets go.
	}
	if g.control != "" {
		os.Remove(g.control)
	}
	s.mu.Lock()
	delete(s.live, g)
	s.mu.Unlock()
}

// copyLines copies r to w a line at a time (long lines in 64 KiB pieces),
// so lines from several writers sharing w do not interleave.
func copyLines(w io.Writer, r io.Reader) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			w.Write(line)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// Coalescing of the app's output (see [coalescer]).
const (
	// coalesceWait is how long a busy stream is left to collect in a
	// pipe of outputPipeSize bytes before the next read.
	coalesceWait = 10 * time.Millisecond
	// coalesceAfter reads in a row, each finding data within
	// coalesceWait, make a stream busy. A burst of lines shorter than that (a boot, a
	// crash's last words) is passed on at once.
	coalesceAfter = 32
	// outputPipeSize is the capacity asked for the output pipe: at
	// 50,000 lines of 250 bytes a second, twice coalesceWait's worth.
	// Not more: an enlarged pipe counts whole against its user's quota
	// (fs.pipe-user-pages-soft, 64 MiB by default), and a user past it
	// gets pipes of 8 KiB, every program of that user alike.
	outputPipeSize = 256 << 10
	// flushTimeout bounds how long a line of the supervisor's own waits
	// for the app's output before it (see coalescer.flush).
	flushTimeout = 50 * time.Millisecond
)

// coalesceWaitFor is the coalescer's wait for a pipe of size bytes:
// coalesceWait for outputPipeSize, less in proportion for a smaller pipe,
// so that the app can write as much while the supervisor sleeps without
// filling it (Linux's default 64 KiB: 2.5 ms, 26 MB/s).
func coalesceWaitFor(size int) time.Duration {
	if size >= outputPipeSize {
		return coalesceWait
	}
	return coalesceWait * time.Duration(size) / outputPipeSize
}

// coalescer reads the app's output pipe. Each read that finds a line
// costs a wake-up of the supervisor (the scheduler's round trip through
// its threads, tens of microseconds of CPU), many times what passing the
// line on costs: an app logging a line per request made the supervisor
// wake once per request. Once coalesceAfter reads in a row have each found
// data within wait, the coalescer pauses for wait before each further read
// that could not have filled p, so that the lines written meanwhile are
// read in one. A read that waits longer than wait (the app fell quiet)
// ends it. The pipe is enlarged (see outputPipe) so that wait's worth of
// output does not fill it and block the app.
//
// A pause ends early at a request on drain (see [coalescer.flush]): the
// supervisor passes on what the app has written before it logs a line of
// its own, so that its log keeps the order of events under load too.
type coalescer struct {
	r     io.Reader
	wait  time.Duration
	sleep func(time.Duration) // tests: instead of a pause; nil: a timer
	drain chan chan struct{}  // flush's requests, taken during a pause
	burst int
	full  bool            // the last read filled its buffer: more is waiting
	acks  []chan struct{} // flush requests waiting for the pipe to be passed on
	empty bool            // the last read emptied the pipe
}

func newCoalescer(r io.Reader, wait time.Duration) *coalescer {
	return &coalescer{r: r, wait: wait, drain: make(chan chan struct{})}
}

func (c *coalescer) Read(p []byte) (int, error) {
	// copyLines reads again only once it has passed on every line of
	// the last read: if that read emptied the pipe, a flush is done.
	if c.empty {
		c.ack()
	}
	if len(c.acks) == 0 && c.burst >= coalesceAfter && !c.full {
		c.pause()
	}
	start := time.Now()
	n, err := c.r.Read(p)
	if time.Since(start) < c.wait {
		c.burst++
	} else {
		c.burst = 0
	}
	c.full = n == len(p)
	// A pipe's read returns less than asked only when it holds no more.
	c.empty = !c.full
	if err != nil {
		c.ack()
	}
	return n, err
}

// pause waits for c.wait, or until flush asks to pass on the pipe now.
func (c *coalescer) pause() {
	if c.sleep != nil {
		c.sleep(c.wait)
		return
	}
	t := time.NewTimer(c.wait)
	defer t.Stop()
	select {
	case <-t.C:
	case ack := <-c.drain:
		c.acks = append(c.acks, ack)
	}
}

func (c *coalescer) ack() {
	for _, a := range c.acks {
		close(a)
	}
	c.acks = c.acks[:0]
}

// flush has a pausing coalescer read the pipe at once and waits, at most
// timeout, until what it held has been passed on. It reports whether it
// waited: a coalescer that is not pausing reads as soon as the app writes,
// and has nothing waiting to be passed on.
func (c *coalescer) flush(timeout time.Duration) bool {
	ack := make(chan struct{})
	select {
	case c.drain <- ack:
	default:
		return false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ack:
	case <-t.C:
	}
	return true
}
