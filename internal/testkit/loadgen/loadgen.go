// Package loadgen sends bounded HTTP load on loopback for relkit's upgrade
// tests and benchmark: clients that keep their connection alive and
// clients that open a connection per request, counting failed requests,
// refused connections and what the server answered, and optionally
// recording every request's latency.
//
//	run := loadgen.Start(loadgen.Options{URL: "http://127.0.0.1:4000/", KeepAlive: 4, PerRequest: 4, Limit: time.Minute})
//	// ... upgrade the server ...
//	res := run.Stop()
//	fmt.Println(res.OK, res.Failed, res.Refused)
//
// Requests are POSTs by default: a client must not retry a POST whose
// connection the server closed under it, so a drain that loses one shows
// as a failure instead of being hidden by a retry.
package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options describe the load. URL and Limit are required.
type Options struct {
	// URL is requested by every client. Required.
	URL string
	// Method is the request method. Default POST.
	Method string
	// Body is each request's body. Default "ping".
	Body []byte
	// KeepAlive clients send their requests on one connection each.
	KeepAlive int
	// PerRequest clients open a new connection for every request.
	PerRequest int
	// Check judges an answer; an error counts the request as failed.
	// Default: status 200.
	Check func(status int, body []byte) error
	// Limit bounds how long the load runs if Stop is not called.
	// Required.
	Limit time.Duration
	// Record keeps every request's start time and latency in the result.
	Record bool
}

// Sample is one request's start and latency. It holds no pointer, so that
// the hundreds of thousands a run records cost the load generator's
// garbage collector nothing to scan (which would show in the latencies).
type Sample struct {
	// At is when the request started, as time since Start.
	At      time.Duration
	Latency time.Duration
}

// Result is what a load run saw.
type Result struct {
	// OK, Failed and Refused count requests: answered and accepted by
	// Check; failed in any way; failed because the connection was refused
	// (counted in Failed too).
	OK, Failed, Refused int64
	// Errors are the first failures' descriptions (at most 20).
	Errors []string
	// Seen counts the accepted answers by their first line.
	Seen map[string]int64
	// Samples are the requests' latencies when Options.Record is set, in
	// no particular order.
	Samples []Sample
	// Started is when the load started; Sample.At counts from it.
	Started time.Time
	// Elapsed is how long the load ran.
	Elapsed time.Duration
}

// Run is load in progress.
type Run struct {
	opts    Options
	ok      atomic.Int64
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started time.Time

	mu      sync.Mutex
	res     Result
	samples [][]Sample
}

// Start starts the clients.
func Start(opts Options) *Run {
	if opts.Method == "" {
		opts.Method = http.MethodPost
	}
	if opts.Body == nil {
		opts.Body = []byte("ping")
	}
	if opts.Check == nil {
		opts.Check = func(status int, _ []byte) error {
			if status != http.StatusOK {
				return fmt.Errorf("status %d", status)
			}
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Limit)
	r := &Run{opts: opts, cancel: cancel, started: time.Now(), res: Result{Seen: map[string]int64{}}}
	r.samples = make([][]Sample, opts.KeepAlive+opts.PerRequest)
	for i := range opts.KeepAlive + opts.PerRequest {
		r.wg.Add(1)
		go r.client(ctx, i, i >= opts.KeepAlive)
	}
	return r
}

// OK returns how many requests succeeded so far.
func (r *Run) OK() int64 { return r.ok.Load() }

// Stop stops the clients, waits for their requests in flight and returns
// the result.
func (r *Run) Stop() Result {
	r.cancel()
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.OK = r.ok.Load()
	r.res.Started = r.started
	r.res.Elapsed = time.Since(r.started)
	for _, s := range r.samples {
		r.res.Samples = append(r.res.Samples, s...)
	}
	return r.res
}

func (r *Run) client(ctx context.Context, i int, perRequest bool) {
	defer r.wg.Done()
	tr := &http.Transport{DisableKeepAlives: perRequest, MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	c := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	var mine []Sample
	defer func() {
		r.mu.Lock()
		r.samples[i] = mine
		r.mu.Unlock()
	}()
	seen := map[string]int64{}
	defer func() {
		r.mu.Lock()
		for k, v := range seen {
			r.res.Seen[k] += v
		}
		r.mu.Unlock()
	}()
	for ctx.Err() == nil {
		req, err := http.NewRequest(r.opts.Method, r.opts.URL, bytes.NewReader(r.opts.Body))
		if err != nil {
			r.fail(err, false)
			return
		}
		// No GetBody: the transport must not replay a POST.
		req.GetBody = nil
		start := time.Now()
		resp, err := c.Do(req)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				err = r.opts.Check(resp.StatusCode, body)
			}
		}
		took := time.Since(start)
		if err != nil {
			if ctx.Err() != nil {
				return // stopped mid-request: not the server's failure
			}
			r.fail(err, errors.Is(err, syscall.ECONNREFUSED))
			continue
		}
		r.ok.Add(1)
		if r.opts.Record {
			mine = append(mine, Sample{At: start.Sub(r.started), Latency: took})
		}
		line, _, _ := bufio.NewReader(bytes.NewReader(body)).ReadLine()
		seen[string(line)]++
	}
}

func (r *Run) fail(err error, refused bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Failed++
	if refused {
		r.res.Refused++
	}
	if len(r.res.Errors) < 20 {
		r.res.Errors = append(r.res.Errors, err.Error())
	}
}

// Percentile returns the p-th percentile (0 < p <= 100) of the latencies,
// by the nearest-rank method; 0 for none.
func Percentile(latencies []time.Duration, p float64) time.Duration {
	if len(latencies) == 0 {
		return 0
	}
	s := slices.Clone(latencies)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}
