package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMaintenance(t *testing.T) {
	t.Parallel()
	m := &Maintenance{}
	s := New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("app")) }), Options{Maintenance: m, DisableAccessLog: true})
	h := s.Handler()
	get := func(path, accept string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		h.ServeHTTP(rec, req)
		return rec
	}
	if want, got := 200, get("/", "").Code; want != got {
		t.Fatalf("off: want %d, got %d", want, got)
	}
	m.Set(&MaintenanceState{Message: "<b>x</b>", RetryAfter: 30})
	rec := get("/x", "")
	if want, got := 503, rec.Code; want != got {
		t.Fatalf("on: want %d, got %d", want, got)
	}
	if want, got := "30", rec.Header().Get("Retry-After"); want != got {
		t.Errorf("Retry-After: want %q, got %q", want, got)
	}
	if b := rec.Body.String(); strings.Contains(b, "<b>x</b>") || !strings.Contains(b, "&lt;b&gt;x&lt;/b&gt;") {
		t.Errorf("message not escaped: %s", b)
	}
	rec = get("/x", "application/json")
	if want, got := "application/json", rec.Header().Get("Content-Type"); want != got || !strings.Contains(rec.Body.String(), `"retry_after":30`) {
		t.Errorf("JSON: want %s, got %s %s", want, got, rec.Body.String())
	}
	if want, got := 200, get("/readyz", "").Code; want != got {
		t.Errorf("readyz in maintenance: want %d, got %d", want, got)
	}
	if want, got := 200, get("/healthz", "").Code; want != got {
		t.Errorf("healthz in maintenance: want %d, got %d", want, got)
	}
	m.Set(nil)
	if want, got := 200, get("/", "").Code; want != got {
		t.Fatalf("off again: want %d, got %d", want, got)
	}
}

// BenchmarkMaintenanceOff compares the default chain (access log off)
// without Maintenance and with Maintenance set but off: the one atomic
// load every request pays for it.
func BenchmarkMaintenanceOff(b *testing.B) {
	log := releaseLogger(io.Discard, slog.LevelWarn)
	b.Run("none", func(b *testing.B) { benchHandler(b, New(hello, Options{Logger: log}).Handler()) })
	b.Run("off", func(b *testing.B) {
		benchHandler(b, New(hello, Options{Logger: log, Maintenance: &Maintenance{}}).Handler())
	})
}
