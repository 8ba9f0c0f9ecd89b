package fleettest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/relkit/relkit/internal/testkit/loadgen"
)

// load is a bounded load through haproxy: reads (GET /notes) and writes
// (POST /notes), each from clients that keep their connection alive and
// clients that open one per request, every client at most one request per
// pace, for at most limit.
type load struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	start  time.Time

	mu      sync.Mutex
	ok      int
	failed  []string // the first 20 failures
	nFailed int
	seen    map[string]int // answers by their release
	samples []sample
}

type sample struct {
	at, latency time.Duration
}

const pace = 100 * time.Millisecond // per client: at most 10 requests/s

func startLoad(lbPort int, limit time.Duration) *load {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	l := &load{cancel: cancel, start: time.Now(), seen: map[string]int{}}
	base := fmt.Sprintf("http://127.0.0.1:%d/notes", lbPort)
	for _, c := range []struct {
		method    string
		keepAlive bool
		n         int
	}{{"GET", true, 3}, {"GET", false, 1}, {"POST", true, 1}, {"POST", false, 1}} {
		for range c.n {
			l.wg.Add(1)
			go l.client(ctx, base, c.method, c.keepAlive)
		}
	}
	return l
}

func (l *load) client(ctx context.Context, u, method string, keepAlive bool) {
	defer l.wg.Done()
	tr := &http.Transport{DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	tick := time.NewTicker(pace)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t0 := time.Now()
		req, _ := http.NewRequest(method, u, strings.NewReader("note"))
		resp, err := client.Do(req)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
			}
		}
		if ctx.Err() != nil && err != nil {
			return // cut off by the end of the load, not a failure of the fleet
		}
		l.mu.Lock()
		if err != nil {
			l.nFailed++
			if len(l.failed) < 20 {
				l.failed = append(l.failed, fmt.Sprintf("%s %s at %s: %v", method, map[bool]string{true: "keep-alive", false: "per-connection"}[keepAlive], time.Since(l.start).Round(time.Millisecond), err))
			}
		} else {
			l.ok++
			vsn, _, _ := strings.Cut(string(body), " ")
			l.seen[vsn]++
			l.samples = append(l.samples, sample{at: t0.Sub(l.start), latency: time.Since(t0)})
		}
		l.mu.Unlock()
	}
}

// stop ends the load and waits for its clients.
func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}

// p99 is the 99th percentile latency of the requests started in [from, to)
// since the load started, and how many there were.
func (l *load) p99(from, to time.Duration) (time.Duration, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lat []time.Duration
	for _, s := range l.samples {
		if s.at >= from && s.at < to {
			lat = append(lat, s.latency)
		}
	}
	if len(lat) == 0 {
		return 0, 0
	}
	return loadgen.Percentile(lat, 99), len(lat)
}
