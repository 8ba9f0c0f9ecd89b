package server

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// deadlineConn is a net.Conn that records the read deadlines set on it.
type deadlineConn struct {
	net.Conn // nil: only SetReadDeadline is called
	reads    []time.Time
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.reads = append(c.reads, t)
	return nil
}

func (c *deadlineConn) last(t *testing.T) time.Time {
	t.Helper()
	if len(c.reads) == 0 {
		t.Fatal("no read deadline was set")
	}
	return c.reads[len(c.reads)-1]
}

// The grace a quiet connection gets counts from the drain's start when it
// went quiet before, and from the moment it went quiet when after; a
// request that arrives in time gets its ReadTimeout back. The tracker
// reads the clock only once the drain has started.
func TestConnTrackerGraceCountsFromLaterOfQuietAndDrainStart(t *testing.T) {
	const grace, readTimeout = time.Second, time.Minute
	tr := newConnTracker(grace, readTimeout)
	early, late, busy, fresh := &deadlineConn{}, &deadlineConn{}, &deadlineConn{}, &deadlineConn{}
	for _, c := range []*deadlineConn{early, late, busy} {
		tr.hook(c, http.StateNew)
		tr.hook(c, http.StateActive)
	}
	tr.hook(early, http.StateIdle) // quiet before the drain

	time.Sleep(time.Millisecond) // so that the moment early went quiet and the drain start differ
	drainStart := time.Now()
	tr.startDrain(drainStart)
	before := time.Now()
	tr.hook(late, http.StateIdle) // quiet after the drain started
	tr.hook(fresh, http.StateNew) // accepted, no request yet
	after := time.Now()

	if n := tr.quiesce(); n != 4 {
		t.Fatalf("quiesce counts %d connections, want 4", n)
	}
	if got, want := early.last(t), drainStart.Add(grace); !got.Equal(want) {
		t.Errorf("idle before the drain: read deadline %v, want drain start + grace = %v", got, want)
	}
	for name, c := range map[string]*deadlineConn{"idle after the drain started": late, "accepted after the drain started": fresh} {
		if got := c.last(t); got.Before(before.Add(grace)) || got.After(after.Add(grace)) {
			t.Errorf("%s: read deadline %v, want the moment it went quiet + grace, in [%v, %v]", name, got, before.Add(grace), after.Add(grace))
		}
	}
	if len(busy.reads) != 0 {
		t.Errorf("a connection with a request in flight got read deadlines %v, want none", busy.reads)
	}

	// A request arrives on early in time: its deadline is net/http's again.
	n := len(early.reads)
	before = time.Now()
	tr.hook(early, http.StateActive)
	after = time.Now()
	if len(early.reads) != n+1 {
		t.Fatalf("a request on a shortened connection set %d read deadlines, want 1", len(early.reads)-n)
	}
	if got := early.last(t); got.Before(before.Add(readTimeout)) || got.After(after.Add(readTimeout)) {
		t.Errorf("restored read deadline %v, want now + ReadTimeout, in [%v, %v]", got, before.Add(readTimeout), after.Add(readTimeout))
	}

	tr.hook(early, http.StateClosed)
	tr.hook(late, http.StateHijacked)
	if n := tr.count(); n != 2 {
		t.Errorf("after a close and a hijack %d connections are tracked, want 2", n)
	}
}

// BenchmarkConnTrackerRequest is what the tracker costs one keep-alive
// request: StateActive then StateIdle, before any drain.
func BenchmarkConnTrackerRequest(b *testing.B) {
	tr := newConnTracker(time.Second, 0)
	conns := make([]*deadlineConn, 32)
	for i := range conns {
		conns[i] = &deadlineConn{}
		tr.hook(conns[i], http.StateNew)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := conns[i%len(conns)]
		tr.hook(c, http.StateActive)
		tr.hook(c, http.StateIdle)
	}
}
