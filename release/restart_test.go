package release_test

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
)

// TestRestartUnderLoad restarts a daemon's app while keep-alive clients and
// clients opening a connection per request keep sending: none may fail.
func TestRestartUnderLoad(t *testing.T) {
	t.Parallel()
	d := newDaemonEnv(t)
	d.mustRun("daemon")
	url := fmt.Sprintf("http://127.0.0.1:%d/", d.port)

	ctx, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	var ok, failed atomic.Int64
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{DisableKeepAlives: i%2 == 1, MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			c := &http.Client{Timeout: 10 * time.Second, Transport: tr}
			for ctx.Err() == nil {
				resp, err := c.Get(url)
				if err == nil {
					var b []byte
					b, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil && (resp.StatusCode != 200 || !strings.HasPrefix(string(b), "hello")) {
						err = fmt.Errorf("status %d body %q", resp.StatusCode, b)
					}
				}
				if err != nil && ctx.Err() == nil {
					failed.Add(1)
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
					continue
				}
				ok.Add(1)
			}
		}()
	}
	const restarts = 3
	for i := range restarts {
		before := ok.Load()
		waitUntil(t, "requests between restarts", func() bool { return ok.Load() > before+100 })
		if out := d.mustRun("restart"); !strings.HasPrefix(out, "testapp restarted (app pid ") {
			t.Errorf("restart %d: want %q…, got %q", i+1, "testapp restarted (app pid ", out)
		}
	}
	before := ok.Load()
	waitUntil(t, "requests after the last restart", func() bool { return ok.Load() > before+100 })
	stop()
	wg.Wait()
	t.Logf("%d requests during %d restarts, %d failed", ok.Load()+failed.Load(), restarts, failed.Load())
	if n := failed.Load(); n != 0 {
		t.Errorf("failed requests: want 0, got %d: %q", n, errs[:min(len(errs), 5)])
	}
	// The supervisor writes its log in batches (at most 100ms apart).
	waitUntil(t, fmt.Sprintf("%d restarts in the log", restarts), func() bool {
		return strings.Count(d.logText(), `"msg":"restart: done"`) >= restarts
	})
	if n := strings.Count(d.logText(), `"msg":"restart: done"`); n != restarts {
		t.Errorf("restarts in the log: want %d, got %d", restarts, n)
	}
}
