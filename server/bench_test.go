package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lmittmann/tint"
)

// nopWriter is a ResponseWriter that discards everything, so that the
// benchmarks below measure the middleware, not the recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

// WriteString, as net/http's ResponseWriter has it.
func (w *nopWriter) WriteString(s string) (int, error) { return len(s), nil }

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

// BenchmarkMiddleware compares the handler alone, and behind RequestID
// alone (a fresh ID, its context, the request copy carrying it and the
// header: what the API requires), with the chain a Server serves by
// default: with the release's logger off a terminal (slog's JSON
// handler behind internal/logbuf, with app=NAME; releaseLogger) silenced by
// its level and logging the access line, then with loggers the access log
// has no fast path for: slog's own JSON handler and tint's text handler.
// All write to io.Discard.
//
// Nothing here stays live, so the heap stays at the garbage collector's
// 4 MB minimum and a cycle runs every 10,000 requests or so: the bytes a
// request allocates (400) count as much as its instructions. With -cpu 2
// each cycle costs the request loop more than with -cpu 1: the runtime's
// background scavenger, free to run on the idle P, returns pages that the
// next cycle's allocations fault back in (GODEBUG=scavtrace=1: 49 MB
// returned per 3 million requests with -cpu 2, 5 MB with -cpu 1; system
// time 6 times as high), and the stop-the-world pauses wait for the other
// P. With a larger heap goal (GOGC=400, as a server with live data has)
// most of that difference goes.
func BenchmarkMiddleware(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchHandler(b, hello) })
	b.Run("request-id-only", func(b *testing.B) { benchHandler(b, RequestID(hello)) })
	b.Run("default-log-off", func(b *testing.B) {
		benchHandler(b, New(hello, Options{Logger: releaseLogger(io.Discard, slog.LevelWarn)}).Handler())
	})
	b.Run("default-log-json", func(b *testing.B) {
		benchHandler(b, New(hello, Options{Logger: releaseLogger(io.Discard, slog.LevelInfo)}).Handler())
	})
	b.Run("default-log-slog-json", func(b *testing.B) {
		log := slog.New(slog.NewJSONHandler(io.Discard, nil)).With("app", "hello")
		benchHandler(b, New(hello, Options{Logger: log}).Handler())
	})
	b.Run("default-log-tint", func(b *testing.B) {
		log := slog.New(tint.NewTextHandler(io.Discard, &tint.Options{TimeFormat: "15:04:05.000", NoColor: true})).With("app", "hello")
		benchHandler(b, New(hello, Options{Logger: log}).Handler())
	})
}
