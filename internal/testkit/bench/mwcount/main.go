// Command mwcount runs a request through one of the middleware stacks of
// server's BenchmarkMiddleware N times on one locked thread with the
// garbage collector off, so that callgrind's instruction count of the run
// (internal/testkit/bench/middleware.sh runs it twice, for two values of
// N, and divides the difference) is the stack's cost per request, free of
// the load of a shared machine. It prints the allocations per request.
//
//	valgrind --tool=callgrind mwcount -stack log-json -n 20000
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/lmittmann/tint"
	"github.com/relkit/relkit/internal/logbuf"
	"github.com/relkit/relkit/server"
)

// nopWriter is a ResponseWriter that discards everything.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header               { return w.h }
func (w *nopWriter) Write(p []byte) (int, error)       { return len(p), nil }
func (w *nopWriter) WriteHeader(int)                   {}
func (w *nopWriter) WriteString(s string) (int, error) { return len(s), nil }

var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "Hello\n") })

// releaseLogger is the release's logger off a terminal, as in server's
// tests: slog's JSON encoding through internal/logbuf, with app=hello.
func releaseLogger(level slog.Level) *slog.Logger {
	bw := logbuf.New(io.Discard, 0, 0)
	return slog.New(logbuf.NewJSONHandler(bw, level, slog.LevelWarn)).With("app", "hello")
}

func main() {
	stack := flag.String("stack", "log-json", "bare, request-id, log-off, log-json, slog-json or tint")
	n := flag.Int("n", 10000, "requests")
	gcOff := flag.Bool("gc-off", false, "turn the garbage collector off")
	flag.Parse()
	var h http.Handler
	switch *stack {
	case "bare":
		h = hello
	case "request-id":
		h = server.RequestID(hello)
	case "log-off":
		h = server.New(hello, server.Options{Logger: releaseLogger(slog.LevelWarn)}).Handler()
	case "log-json":
		h = server.New(hello, server.Options{Logger: releaseLogger(slog.LevelInfo)}).Handler()
	case "slog-json":
		h = server.New(hello, server.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)).With("app", "hello")}).Handler()
	case "tint":
		log := slog.New(tint.NewTextHandler(io.Discard, &tint.Options{TimeFormat: "15:04:05.000", NoColor: true})).With("app", "hello")
		h = server.New(hello, server.Options{Logger: log}).Handler()
	default:
		fmt.Fprintln(os.Stderr, "mwcount: unknown -stack", *stack)
		os.Exit(64)
	}
	runtime.LockOSThread()
	if *gcOff {
		debug.SetGCPercent(-1)
	}
	r := httptest.NewRequest("GET", "/", nil)
	w := &nopWriter{h: http.Header{}}
	h.ServeHTTP(w, r) // fill the pools
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range *n {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
	runtime.ReadMemStats(&after)
	if *n > 0 {
		fmt.Printf("%s: %.2f allocs/op %.0f B/op\n", *stack,
			float64(after.Mallocs-before.Mallocs)/float64(*n), float64(after.TotalAlloc-before.TotalAlloc)/float64(*n))
	}
	os.Exit(0)
}
