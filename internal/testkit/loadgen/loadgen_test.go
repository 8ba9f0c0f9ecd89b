package loadgen_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit/loadgen"
)

func TestCountsAnswersAndFailures(t *testing.T) {
	t.Parallel()
	var n, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || string(b) != "ping" {
			http.Error(w, "want POST ping", 400)
			return
		}
		if n.Add(1)%10 == 0 {
			http.Error(w, "every tenth fails", 500)
			return
		}
		fmt.Fprintln(w, "v1\nmore")
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	run := loadgen.Start(loadgen.Options{URL: srv.URL, KeepAlive: 2, PerRequest: 2, Limit: 10 * time.Second, Record: true})
	deadline := time.Now().Add(10 * time.Second)
	for run.OK() < 200 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	res := run.Stop()
	if res.OK < 200 || res.Failed == 0 || res.Refused != 0 {
		t.Fatalf("want at least 200 answers, some failures (status 500) and no refusal, got %+v", res)
	}
	if got := res.OK + res.Failed; got != n.Load() && got != n.Load()-1 {
		t.Errorf("requests counted: want the %d the server saw, got %d", n.Load(), got)
	}
	if !strings.Contains(res.Errors[0], "status 500") {
		t.Errorf("errors: want status 500, got %q", res.Errors)
	}
	if res.Seen["v1"] != res.OK || len(res.Seen) != 1 {
		t.Errorf("seen: want every answer's first line v1, got %v", res.Seen)
	}
	if int64(len(res.Samples)) != res.OK {
		t.Errorf("samples: want one per answer (%d), got %d", res.OK, len(res.Samples))
	}
	// The keep-alive clients reuse their connections (a new one after a
	// 500 at most), the per-request clients open one each time.
	if c, reqs := conns.Load(), res.OK+res.Failed; c <= 4 || c >= reqs {
		t.Errorf("connections: want more than 4 and fewer than the %d requests, got %d", reqs, c)
	}
}

func TestCountsRefusedConnections(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/"
	ln.Close()
	run := loadgen.Start(loadgen.Options{URL: url, PerRequest: 1, Limit: 200 * time.Millisecond})
	time.Sleep(50 * time.Millisecond)
	res := run.Stop()
	if res.OK != 0 || res.Refused == 0 || res.Refused != res.Failed {
		t.Errorf("nothing listening: want every request refused, got %+v", res)
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i
	}
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"none", nil, 99, 0},
		{"one", ms(7), 99.9, 7 * time.Millisecond},
		{"median of 1..100", ms(hundred...), 50, 50 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p99.9 of 1..100", ms(hundred...), 99.9, 100 * time.Millisecond},
		{"p100", ms(3, 1, 2), 100, 3 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := loadgen.Percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("%s: want %v, got %v", tt.name, tt.want, got)
		}
	}
}
