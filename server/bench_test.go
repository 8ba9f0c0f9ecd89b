package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// nopWriter is a ResponseWriter that discards everything, so that the
// benchmarks below measure the middleware, not the recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "Hello\n") })

func benchHandler(b *testing.B, h http.Handler) {
	r := httptest.NewRequest("GET", "/", nil)
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkMiddleware compares the handler alone with the chain a Server
// serves by default, with the access log enabled (JSON to io.Discard) and
// disabled by the log level.
func BenchmarkMiddleware(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchHandler(b, hello) })
	b.Run("default-log-off", func(b *testing.B) {
		log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
		benchHandler(b, New(hello, Options{Logger: log}).Handler())
	})
	b.Run("default-log-json", func(b *testing.B) {
		log := slog.New(slog.NewJSONHandler(io.Discard, nil))
		benchHandler(b, New(hello, Options{Logger: log}).Handler())
	})
}
