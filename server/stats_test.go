package server

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// TestStatsCounts checks the counters debug stats reads: a request in
// flight, the requests served, the connections open, and none once the
// client has gone.
func TestStatsCounts(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
		io.WriteString(w, "ok")
	})
	url, s, _ := startServer(t, h, Options{DrainDelay: -1})
	tr := &http.Transport{}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for range 3 {
		resp, err := c.Get(url + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if want, got := (Stats{Connections: 1, InFlight: 0, Requests: 3}), s.Stats(); want != got {
		t.Errorf("after 3 requests on one connection: want %+v, got %+v", want, got)
	}
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-entered
	if want, got := (Stats{Connections: 2, InFlight: 1, Requests: 3}), s.Stats(); want != got {
		t.Errorf("with /slow in flight on a second connection: want %+v, got %+v", want, got)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	tr.CloseIdleConnections()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Connections != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if want, got := (Stats{Connections: 0, InFlight: 0, Requests: 4}), s.Stats(); want != got {
		t.Errorf("after the clients closed: want %+v, got %+v", want, got)
	}
}
