package server

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// drainTick is how often, while draining, quiet connections get their
// shortened read deadline (re)applied and the connection count is checked.
const drainTick = 20 * time.Millisecond

// connTracker follows every connection of an http.Server through its
// ConnState hook, so that shutdown can wait for all of them, not only the
// ones http.Server.Shutdown waits for.
//
// Why not plain Shutdown: it closes idle keep-alive connections at once,
// racing clients that are sending their next request on them (a POST lost
// that way is not retried by clients), and once it has been called a
// connection that reads a request closes without answering it.
// Instead, after the listener closes, every request is answered with
// "Connection: close", and a connection carrying no request (idle, or
// accepted with its request not yet read) gets a read deadline of
// DrainIdleTimeout to send one. Only when every connection is gone does
// Run call Shutdown.
type connTracker struct {
	grace       time.Duration // DrainIdleTimeout
	readTimeout time.Duration // http.Server.ReadTimeout, restored on use

	mu         sync.Mutex
	conns      map[net.Conn]*connInfo
	drainStart time.Time // zero until the listeners close
	changed    chan struct{}
}

type connInfo struct {
	state http.ConnState
	// since is when the connection entered state, recorded only once
	// the drain has started: quiesce counts a quiet connection's grace
	// from the later of since and drainStart, so before the drain the
	// moment does not matter, and not reading the clock there saves
	// two clock reads per request (one per StateActive and StateIdle).
	since time.Time
	// shortened is set when the drain loop moved the read deadline;
	// net/http does not know, so the hook restores it when a request
	// arrives.
	shortened bool
}

func newConnTracker(grace, readTimeout time.Duration) *connTracker {
	return &connTracker{
		grace:       grace,
		readTimeout: readTimeout,
		conns:       make(map[net.Conn]*connInfo),
		changed:     make(chan struct{}, 1),
	}
}

// hook is the http.Server's ConnState.
func (t *connTracker) hook(c net.Conn, st http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var now time.Time // zero, which is before any drainStart
	if !t.drainStart.IsZero() {
		now = time.Now()
	}
	switch st {
	case http.StateNew:
		t.conns[c] = &connInfo{state: st, since: now}
	case http.StateActive, http.StateIdle:
		ci := t.conns[c]
		if ci == nil {
			return
		}
		ci.state, ci.since = st, now
		if st == http.StateActive && ci.shortened {
			// A request arrived in time. net/http set its own
			// deadline for the body before this hook ran, and the
			// drain loop may have overwritten it since: put back
			// what net/http would have. (Only the drain loop
			// shortens deadlines, so now is set.)
			ci.shortened = false
			var d time.Time
			if t.readTimeout > 0 {
				d = now.Add(t.readTimeout)
			}
			c.SetReadDeadline(d)
		}
	case http.StateHijacked, http.StateClosed:
		// A hijacked connection (a WebSocket, say) is the handler's to
		// close; the server stops waiting for it.
		delete(t.conns, c)
		select {
		case t.changed <- struct{}{}:
		default:
		}
	}
}

// startDrain marks the moment the listeners closed.
func (t *connTracker) startDrain(now time.Time) {
	t.mu.Lock()
	t.drainStart = now
	t.mu.Unlock()
}

// quiesce gives every connection without a request in flight a read
// deadline of grace after it became quiet (or after the drain started, if
// later) and returns how many connections remain. It runs again on every
// tick because net/http sets its own idle and header deadlines right after
// the state change; the latest write wins, and ours is absolute, so
// reapplying it is harmless.
func (t *connTracker) quiesce() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c, ci := range t.conns {
		if ci.state != http.StateNew && ci.state != http.StateIdle {
			continue
		}
		from := ci.since
		if from.Before(t.drainStart) {
			from = t.drainStart
		}
		c.SetReadDeadline(from.Add(t.grace))
		ci.shortened = true
	}
	return len(t.conns)
}

// count returns how many connections are open.
func (t *connTracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// waitClosed quiesces connections until none is left, or done is closed.
// It reports whether all connections closed.
func (t *connTracker) waitClosed(done <-chan struct{}) bool {
	tick := time.NewTicker(drainTick)
	defer tick.Stop()
	for {
		if t.quiesce() == 0 {
			return true
		}
		select {
		case <-done:
			return false
		case <-t.changed:
		case <-tick.C:
		}
	}
}
