package supervisor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/control"
)

// loadResult counts what a bounded loopback load saw.
type loadResult struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       []string
	gens       map[string]int
	// wait waits for every client to finish.
	wait func()
}

func (r *loadResult) fail(msg string) {
	r.failed.Add(1)
	r.mu.Lock()
	if len(r.errs) < 10 {
		r.errs = append(r.errs, msg)
	}
	r.mu.Unlock()
}

// runLoad sends GET requests to url from keepAlive clients reusing their
// connections and from fresh clients opening one connection per request,
// until ctx is done (and never longer than limit).
func runLoad(ctx context.Context, url string, keepAlive, perRequest int, limit time.Duration) *loadResult {
	res := &loadResult{gens: map[string]int{}}
	ctx, cancel := context.WithTimeout(ctx, limit)
	var wg sync.WaitGroup
	client := func(disableKeepAlives bool) {
		defer wg.Done()
		c := &http.Client{
			Timeout:   10 * time.Second,
			Transport: &http.Transport{DisableKeepAlives: disableKeepAlives, MaxIdleConnsPerHost: 1},
		}
		defer c.CloseIdleConnections()
		for ctx.Err() == nil {
			resp, err := c.Get(url)
			if err != nil {
				res.fail(err.Error())
				continue
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(string(b), "gen ") {
				res.fail(fmt.Sprintf("status %d body %q err %v", resp.StatusCode, b, err))
				continue
			}
			res.ok.Add(1)
			gen, _, _ := strings.Cut(strings.TrimPrefix(string(b), "gen "), " ")
			res.mu.Lock()
			res.gens[gen]++
			res.mu.Unlock()
		}
	}
	for range keepAlive {
		wg.Add(1)
		go client(false)
	}
	for range perRequest {
		wg.Add(1)
		go client(true)
	}
	res.wait = func() { wg.Wait(); cancel() }
	return res
}

func TestRestartUnderLoadFailsNoRequest(t *testing.T) {
	t.Parallel()
	h := start(t, "serve", nil)
	h.waitReady()

	ctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	load := runLoad(ctx, h.url+"/", 4, 4, 60*time.Second)
	const restarts = 3
	waitFor(t, 10*time.Second, "load to start", func() bool { return load.ok.Load() > 50 }, h.out)
	for i := range restarts {
		before := load.ok.Load()
		res, _, _ := h.call(control.OpRestart)
		if res.Status != 0 || res.PID == 0 {
			t.Fatalf("restart %d: want status 0 and the new pid, got %+v", i+1, res)
		}
		waitFor(t, 10*time.Second, "requests to the new generation", func() bool { return load.ok.Load() > before+50 }, h.out)
	}
	stopLoad()
	load.wait()

	t.Logf("%d requests during %d restarts, %d failed; per generation: %v", load.ok.Load()+load.failed.Load(), restarts, load.failed.Load(), load.gens)
	if n := load.failed.Load(); n != 0 {
		t.Errorf("failed requests: want 0, got %d: %q", n, load.errs)
	}
	for gen := 1; gen <= restarts+1; gen++ {
		if load.gens[fmt.Sprint(gen)] == 0 {
			t.Errorf("generation %d answered no request; per generation: %v", gen, load.gens)
		}
	}
}
