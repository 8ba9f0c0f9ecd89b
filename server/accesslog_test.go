package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/lmittmann/tint"
	"github.com/relkit/relkit/internal/logbuf"
	"github.com/relkit/relkit/internal/testkit"
)

// slogLine is the line slog's JSON handler, with the attributes with,
// writes for an access log record of these values: what appendJSON must
// write byte for byte.
func slogLine(t testing.TB, with []any, tm time.Time, level slog.Level, method, path string, status int, n int64, d time.Duration, id string, aborted bool) string {
	t.Helper()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})).With(with...)
	rec := slog.NewRecord(tm, level, "request", 0)
	rec.AddAttrs(slog.String("method", method), slog.String("path", path), slog.Int("status", status),
		slog.Int64("bytes", n), slog.Duration("duration", d))
	if id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	if aborted {
		rec.AddAttrs(slog.Bool("aborted", true))
	}
	if err := log.Handler().Handle(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// fastLogger is an accessLogger on the fast path, with the attributes with.
func fastLogger(t testing.TB, with []any) *accessLogger {
	t.Helper()
	log := slog.New(logbuf.NewJSONHandler(logbuf.New(io.Discard, -1, 0), slog.LevelDebug, nil)).With(with...)
	a := newAccessLogger(log, nil)
	if a.json == nil {
		t.Fatalf("want the fast path for logbuf's JSON handler with %v, got the slog path", with)
	}
	return a
}

func TestAccessLogJSONMatchesSlog(t *testing.T) {
	t.Parallel()
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatalf("load a zone with daylight saving time: %v (install tzdata)", err)
	}
	base := time.Date(2026, 3, 8, 6, 59, 59, 999_999_000, time.UTC) // New York's clocks go forward at 07:00 UTC
	tests := []struct {
		name         string
		with         []any
		tm           time.Time
		level        slog.Level
		method, path string
		status       int
		n            int64
		d            time.Duration
		id           string
		aborted      bool
	}{
		{"plain request", []any{"app", "hello"}, base, slog.LevelInfo, "GET", "/", 200, 6, 12345 * time.Nanosecond, "abc-123", false},
		{"no request ID", []any{"app", "hello"}, base, slog.LevelInfo, "POST", "/things", 201, 0, time.Millisecond, "", false},
		{"aborted", []any{"app", "hello"}, base, slog.LevelInfo, "GET", "/late", 200, 7, time.Second, "x", true},
		{"health probe at debug", []any{"app", "hello"}, base, slog.LevelDebug, "GET", "/healthz", 200, 3, 0, "id", false},
		{"no attributes", nil, base, slog.LevelInfo, "GET", "/", 200, 6, 1, "id", false},
		{"several attributes", []any{"app", "hello", "component", "web", "n", 3, "ok", true, "pi", 3.25, "up", time.Minute, "at", base},
			base, slog.LevelInfo, "GET", "/", 200, 6, 1, "id", false},
		{"group attribute", []any{"app", "hello", slog.Group("build", "version", "1.0.0", "n", 2)}, base, slog.LevelInfo, "GET", "/", 200, 0, 1, "", false},
		{"attributes needing escapes", []any{"app", "hel\"lo\n\u2028<&>"}, base, slog.LevelInfo, "GET", "/", 200, 0, 1, "", false},
		{"path needing escapes", []any{"app", "hello"}, base, slog.LevelInfo, "GET", "/a\"b\\c\nd\re\tf\x00g\x1fh\x7fi", 404, 9, 1, "", false},
		{"path with unicode", []any{"app", "hello"}, base, slog.LevelInfo, "GET", "/héllo/世界/\u2028\u2029/😀", 200, 0, 1, "", false},
		{"path with invalid UTF-8", []any{"app", "hello"}, base, slog.LevelInfo, "GET", "/a\xffb\xc3(c\xe2\x82", 200, 0, 1, "", false},
		{"long path", []any{"app", "hello"}, base, slog.LevelInfo, "GET", "/" + strings.Repeat("abcdefgh", 100) + "\"", 200, 0, 1, "", false},
		{"odd method and status", []any{"app", "hello"}, base, slog.LevelInfo, "PROPFIND", "/", 999, -1, -5, "", false},
		{"whole second", []any{"app", "hello"}, base.Truncate(time.Second), slog.LevelInfo, "GET", "/", 200, 0, 1, "", false},
		{"fixed zone", []any{"app", "hello"}, base.In(time.FixedZone("IST", 5*3600+1800)), slog.LevelInfo, "GET", "/", 200, 0, 1, "", false},
		{"zone before the switch", []any{"app", "hello"}, base.In(newYork), slog.LevelInfo, "GET", "/", 200, 0, 1, "", false},
		{"zone after the switch", []any{"app", "hello"}, base.Add(time.Microsecond).In(newYork), slog.LevelInfo, "GET", "/", 200, 0, 1, "", false},
		{"local time", []any{"app", "hello"}, time.Now(), slog.LevelInfo, "GET", "/", 200, 0, 1, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := slogLine(t, tt.with, tt.tm, tt.level, tt.method, tt.path, tt.status, tt.n, tt.d, tt.id, tt.aborted)
			a := fastLogger(t, tt.with)
			var tc timeCache
			// Twice: the second line takes the time from the cache.
			for range 2 {
				got := string(a.appendJSON(nil, &tc, tt.tm, tt.level, tt.method, tt.path, tt.status, tt.n, tt.d, tt.id, tt.aborted))
				if got != want {
					t.Fatalf("want slog's line\n%s got\n%s", want, got)
				}
			}
		})
	}
}

// TestTimeCacheMatchesAppendFormat runs through the lines of one second
// and the next, and across a change of UTC offset, comparing every time
// with what slog writes.
func TestTimeCacheMatchesAppendFormat(t *testing.T) {
	t.Parallel()
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatalf("load a zone with daylight saving time: %v (install tzdata)", err)
	}
	var tc timeCache
	for _, loc := range []*time.Location{time.UTC, time.Local, newYork, time.FixedZone("", -(3*3600 + 1800))} {
		for _, start := range []time.Time{
			time.Date(2026, 3, 8, 6, 59, 58, 0, time.UTC),  // New York springs forward at 07:00
			time.Date(2026, 11, 1, 5, 59, 58, 0, time.UTC), // and falls back at 06:00
			time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC),
		} {
			tm := start.In(loc)
			for range 3000 {
				tm = tm.Add(time.Duration(rand.IntN(2_000_000)) * time.Nanosecond)
				want := tm.AppendFormat(nil, time.RFC3339Nano)
				if got := tc.appendRFC3339Nano(nil, tm); !bytes.Equal(got, want) {
					t.Fatalf("%v: want %s, got %s", tm, want, got)
				}
			}
		}
	}
}

func FuzzAccessLogJSON(f *testing.F) {
	f.Add("GET", "/", "app", "hello", 200, int64(6), int64(1234), int64(1_700_000_000_123_456_789), "abc", false)
	f.Add("PO\"ST", "/a\nb\xff\u2028", "a\x00pp", "\\", 500, int64(-1), int64(0), int64(0), "", true)
	f.Fuzz(func(t *testing.T, method, path, key, value string, status int, n, d, unixNano int64, id string, aborted bool) {
		if key == "" {
			key = "k" // slog drops an attribute with an empty key and an empty value
		}
		if !validRequestID(id) {
			id = "" // RequestID lets no other ID through
		}
		tm := time.Unix(0, unixNano)
		if y := tm.Year(); y < 0 || y > 9999 {
			t.Skip("slog writes an error for years RFC 3339 cannot hold")
		}
		with := []any{key, value}
		want := slogLine(t, with, tm, slog.LevelInfo, method, path, status, n, time.Duration(d), id, aborted)
		var tc timeCache
		got := string(fastLogger(t, with).appendJSON(nil, &tc, tm, slog.LevelInfo, method, path, status, n, time.Duration(d), id, aborted))
		if got != want {
			t.Fatalf("want slog's line\n%s got\n%s", want, got)
		}
	})
}

// TestAccessLogFastPathOnlyWhenExact checks which loggers get the fast
// path: only logbuf's JSON handler, with attributes it can vouch for.
func TestAccessLogFastPathOnlyWhenExact(t *testing.T) {
	t.Parallel()
	bw := logbuf.New(io.Discard, -1, 0)
	jsonLog := slog.New(logbuf.NewJSONHandler(bw, nil, nil))
	tests := []struct {
		name string
		log  *slog.Logger
		fast bool
	}{
		{"logbuf JSON", jsonLog, true},
		{"logbuf JSON with app", jsonLog.With("app", "hello"), true},
		{"logbuf JSON with a group", jsonLog.WithGroup("g"), false},
		{"logbuf JSON with an error value", jsonLog.With("err", io.EOF), false},
		{"logbuf over a JSON handler it did not make", slog.New(logbuf.NewHandler(slog.NewJSONHandler(bw, nil), bw, nil)), false},
		{"slog JSON", slog.New(slog.NewJSONHandler(io.Discard, nil)), false},
		{"slog JSON with ReplaceAttr", slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return a }})), false},
		{"tint", slog.New(tint.NewTextHandler(io.Discard, nil)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newAccessLogger(tt.log, nil).json != nil; got != tt.fast {
				t.Errorf("fast path: want %v, got %v", tt.fast, got)
			}
		})
	}
}

// TestAccessLogLineUnchanged serves the same requests through the
// default middleware with the release's logger as it was (slog's JSON
// handler behind logbuf.NewHandler: the slog path) and as it is
// (logbuf.NewJSONHandler: the fast path), and compares the lines parsed:
// the same keys in the same order with the same values and types, time
// and duration aside, which differ from run to run.
func TestAccessLogLineUnchanged(t *testing.T) {
	t.Parallel()
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/boom":
			panic("kaboom")
		case "/abort":
			io.WriteString(w, "part")
			panic(http.ErrAbortHandler)
		case "/created":
			w.WriteHeader(http.StatusCreated)
		}
		io.WriteString(w, "hello")
	})
	requests := []struct{ path, id string }{
		{"/", ""}, {"/created?token=s3cr3t", "abc-123"}, {"/boom", "x"}, {"/abort", ""}, {"/healthz", ""},
		{"/a%22b%0Ac%FF%E2%80%A8", "bad id"},
	}
	serve := func(log *slog.Logger) []byte {
		h := New(app, Options{Logger: log}).Handler()
		for _, req := range requests {
			r := httptest.NewRequest("GET", req.path, nil)
			if req.id != "" {
				r.Header.Set(RequestIDHeader, req.id)
			}
			func() {
				defer func() { recover() }() // the aborted request panics on
				h.ServeHTTP(httptest.NewRecorder(), r)
			}()
		}
		return nil
	}
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var before, after testkit.Buffer
		bw := logbuf.New(&before, -1, 0)
		serve(slog.New(logbuf.NewHandler(slog.NewJSONHandler(bw, &slog.HandlerOptions{Level: level}), bw, nil)).With("app", "hello"))
		serve(slog.New(logbuf.NewJSONHandler(logbuf.New(&after, -1, 0), level, nil)).With("app", "hello"))

		old, new := fieldsOf(t, before.String()), fieldsOf(t, after.String())
		if len(old) != len(new) || len(new) < len(requests)-1 {
			t.Fatalf("level %v: want the same lines, got %d before and %d after:\n%s\n%s", level, len(old), len(new), before.String(), after.String())
		}
		for i := range old {
			if old[i] != new[i] {
				t.Errorf("level %v, line %d: want\n%s got\n%s", level, i, old[i], new[i])
			}
		}
	}
}

// fieldsOf returns each access log line in log as its keys in order with
// their values' JSON types and values; the values of time, duration and
// fresh request IDs are left out.
func fieldsOf(t *testing.T, log string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if !strings.Contains(line, `"msg":"request"`) {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		var fields []string
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("line %q: want a JSON object, got %v %v", line, tok, err)
		}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			switch key {
			case "time":
				if _, err := time.Parse(time.RFC3339Nano, v.(string)); err != nil {
					t.Fatalf("line %q: time: %v", line, err)
				}
				v = "TIME"
			case "duration":
				if _, err := v.(json.Number).Int64(); err != nil {
					t.Fatalf("line %q: duration: %v", line, err)
				}
				v = "INTEGER"
			case "request_id":
				if s := v.(string); len(s) == 22 && validRequestID(s) {
					v = "FRESH-ID" // the requests' own IDs are shorter
				}
			}
			fields = append(fields, key.(string)+"="+typeName(v)+":"+jsonString(v))
		}
		out = append(out, strings.Join(fields, " "))
	}
	return out
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	}
	return "other"
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestAccessLogThroughOtherHandlers checks the slog path: a handler the
// fast path does not know gets the line as a record, through slog's text
// handler and tint as before.
func TestAccessLogThroughOtherHandlers(t *testing.T) {
	t.Parallel()
	var text, tinted testkit.Buffer
	for _, log := range []*slog.Logger{
		slog.New(slog.NewTextHandler(&text, nil)).With("app", "hello"),
		slog.New(tint.NewTextHandler(&tinted, &tint.Options{NoColor: true})).With("app", "hello"),
	} {
		r := httptest.NewRequest("GET", "/x", nil)
		r.Header.Set(RequestIDHeader, "abc")
		New(hello, Options{Logger: log}).Handler().ServeHTTP(httptest.NewRecorder(), r)
	}
	for name, tt := range map[string]struct {
		got  string
		want []string
	}{
		"text": {text.String(), []string{"level=INFO msg=request app=hello method=GET path=/x status=200 bytes=6 duration=", " request_id=abc\n"}},
		"tint": {tinted.String(), []string{"INF request app=hello method=GET path=/x status=200 bytes=6 duration=", " request_id=abc\n"}},
	} {
		for _, w := range tt.want {
			if !strings.Contains(tt.got, w) {
				t.Errorf("%s: want %q in the line, got %q", name, w, tt.got)
			}
		}
	}
}

// TestMiddlewareAllocations holds the default middleware to its
// allocations per request, with the access log on, through the release's
// logger, and off: 2 (the request ID's context and the request's state),
// of 400 bytes together (48 and 352, two size classes filled exactly). The
// bytes matter as much as the count: they set how often the garbage
// collector runs, and each cycle costs a request far more than its share
// of the marking (the stop-the-world pauses, the write barriers on the
// request's copy while marking, the pages returned and faulted back in).
func TestMiddlewareAllocations(t *testing.T) {
	tests := []struct {
		name     string
		log      *slog.Logger
		max      float64
		maxBytes uint64
	}{
		{"access log on", releaseLogger(io.Discard, slog.LevelInfo), 2, 400},
		{"access log off by level", releaseLogger(io.Discard, slog.LevelWarn), 2, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(hello, Options{Logger: tt.log}).Handler()
			r := httptest.NewRequest("GET", "/", nil)
			w := &nopWriter{h: http.Header{}}
			serve := func() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
			serve() // fill the pools
			got := testing.AllocsPerRun(1000, serve)
			if got > tt.max {
				t.Errorf("want at most %v allocations per request, got %v", tt.max, got)
			}
			if raceEnabled() {
				// The race detector's sync.Pool drops a fourth of
				// what is put back: lines allocate buffers.
				return
			}
			// As AllocsPerRun counts allocations: on one P, rounded
			// down, over enough requests that a stray allocation
			// elsewhere does not count.
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			const runs = 10000
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range runs {
				serve()
			}
			runtime.ReadMemStats(&after)
			if b := (after.TotalAlloc - before.TotalAlloc) / runs; b > tt.maxBytes {
				t.Errorf("want at most %d bytes allocated per request, got %d", tt.maxBytes, b)
			}
		})
	}
}

// raceEnabled tells whether the test binary was built with -race.
func raceEnabled() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}
