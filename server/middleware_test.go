package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/relkit/relkit/internal/testkit"
)

// logLines decodes a JSON log.
func logLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func messages(lines []map[string]any, msg string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

func TestPanicIs500AndServerKeepsServing(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	url, _, _ := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/boom":
			w.Header().Set("Set-Cookie", "half=done")
			panic("kaboom")
		case "/abort":
			panic(http.ErrAbortHandler)
		case "/late":
			io.WriteString(w, "partial")
			panic("late kaboom")
		}
		io.WriteString(w, "fine")
	}), Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	// One connection per request: Go's client retries a GET whose reused
	// connection closed without an answer, which would run /late twice.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	resp, err := client.Get(url + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("want 500 after a panic, got %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Set-Cookie"); got != "" {
		t.Errorf("want headers set before the panic dropped, got Set-Cookie %q", got)
	}
	if strings.Contains(string(body), "kaboom") {
		t.Errorf("want the panic value kept out of the response, got %q", body)
	}

	// A panic after the response started aborts it; ErrAbortHandler is
	// the handler's own way to do that and is not logged.
	for _, path := range []string{"/late", "/abort"} {
		if resp, err := client.Get(url + path); err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				t.Errorf("%s: want the response aborted, got a complete %d", path, resp.StatusCode)
			}
		}
	}

	resp, err = client.Get(url + "/")
	if err != nil {
		t.Fatalf("want the server still serving after panics, got %v", err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "fine" {
		t.Fatalf("want 200 fine, got %d %q", resp.StatusCode, body)
	}

	lines := logLines(t, logs.String())
	panics := messages(lines, "panic serving request")
	if len(panics) != 2 {
		t.Fatalf("want the two panics logged once each (not ErrAbortHandler), got %d: %v", len(panics), panics)
	}
	if p := panics[0]; p["panic"] != "kaboom" || p["path"] != "/boom" || !strings.Contains(p["stack"].(string), "middleware_test.go") {
		t.Errorf("want panic, path and a stack pointing at the handler, got %v", p)
	}
	if n := strings.Count(logs.String(), "kaboom"); n != 2 {
		t.Errorf("want each panic value logged exactly once (2 mentions of kaboom), got %d", n)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		incoming string
		keep     bool
	}{
		{"none", "", false},
		{"valid is honoured", "req-1234_abcd.EF:gh+/=@x", true},
		{"spaces are refused", "two words", false},
		{"newline is refused", "a\nlevel=ERROR msg=forged", false},
		{"too long is refused", strings.Repeat("a", 201), false},
		{"200 characters is fine", strings.Repeat("a", 200), true},
	}
	h := RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, RequestIDFrom(r.Context()))
	}))
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.incoming != "" {
				r.Header.Set(RequestIDHeader, tt.incoming)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Header().Get(RequestIDHeader)
			if got != w.Body.String() {
				t.Errorf("want the header and the context to agree, header %q, context %q", got, w.Body.String())
			}
			if tt.keep {
				if got != tt.incoming {
					t.Errorf("want the incoming ID %q kept, got %q", tt.incoming, got)
				}
				return
			}
			if len(got) != 22 || !validRequestID(got) || seen[got] {
				t.Errorf("want a fresh 22-character ID, got %q", got)
			}
			seen[got] = true
		})
	}
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "hello")
	})
	tests := []struct {
		name    string
		level   slog.Level
		path    string
		wantLog bool
	}{
		{"app request at info", slog.LevelInfo, "/things?token=s3cr3t", true},
		{"health probe not at info", slog.LevelInfo, "/healthz", false},
		{"readiness probe not at info", slog.LevelInfo, "/readyz", false},
		{"health probe at debug", slog.LevelDebug, "/healthz", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs testkit.Buffer
			s := New(app, Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: tt.level}))})
			r := httptest.NewRequest("GET", tt.path, nil)
			r.Header.Set(RequestIDHeader, "abc-123")
			s.Handler().ServeHTTP(httptest.NewRecorder(), r)
			lines := messages(logLines(t, logs.String()), "request")
			if !tt.wantLog {
				if len(lines) != 0 {
					t.Fatalf("want no access log line, got %v", lines)
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("want one access log line, got %v", lines)
			}
			l := lines[0]
			for k, want := range map[string]any{"method": "GET", "request_id": "abc-123", "path": strings.Split(tt.path, "?")[0]} {
				if l[k] != want {
					t.Errorf("%s: want %v, got %v", k, want, l[k])
				}
			}
			if tt.path == "/things?token=s3cr3t" {
				if l["status"] != float64(201) || l["bytes"] != float64(5) {
					t.Errorf("want status 201 and 5 bytes, got %v and %v", l["status"], l["bytes"])
				}
			}
			if _, ok := l["duration"]; !ok {
				t.Error("want a duration")
			}
			if strings.Contains(logs.String(), "s3cr3t") {
				t.Error("want the query string kept out of the log")
			}
		})
	}
}

func TestMiddlewareSwitches(t *testing.T) {
	t.Parallel()
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			panic("kaboom")
		}
	})
	tests := []struct {
		name                     string
		opts                     Options
		wantID, wantLog, wantRec bool
	}{
		{"all on by default", Options{}, true, true, true},
		{"request ID off", Options{DisableRequestID: true}, false, true, true},
		{"access log off", Options{DisableAccessLog: true}, true, false, true},
		{"recover off", Options{DisableRecover: true}, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs testkit.Buffer
			tt.opts.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			h := New(app, tt.opts).Handler()

			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			if got := w.Header().Get(RequestIDHeader) != ""; got != tt.wantID {
				t.Errorf("request ID header: want %v, got %v", tt.wantID, got)
			}
			if got := len(messages(logLines(t, logs.String()), "request")) == 1; got != tt.wantLog {
				t.Errorf("access log line: want %v, got %v", tt.wantLog, got)
			}

			recovered := func() (ok bool) {
				defer func() { ok = recover() == nil }()
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/boom", nil))
				return w.Code == http.StatusInternalServerError
			}()
			if recovered != tt.wantRec {
				t.Errorf("panic recovered into a 500: want %v, got %v", tt.wantRec, recovered)
			}
		})
	}
}

func TestStatusWriterKeepsFlusher(t *testing.T) {
	t.Parallel()
	h := New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			t.Error("want the wrapped ResponseWriter to be an http.Flusher")
		}
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("want ResponseController.Flush to reach the real writer, got %v", err)
		}
	}), Options{}).Handler()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if !w.Flushed {
		t.Error("want the response flushed")
	}
}

// TestStackedMiddleware stacks the exported middleware by hand, the way an
// app without a Server would, and checks what each layer adds: one status
// writer shared, the ID in the log line, the 500 logged, and the abort of a
// response that had started.
func TestStackedMiddleware(t *testing.T) {
	t.Parallel()
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(*statusWriter); !ok {
			t.Errorf("want the status writer passed down, got %T", w)
		}
		switch r.URL.Path {
		case "/boom":
			panic("kaboom")
		case "/late":
			io.WriteString(w, "partial")
			panic("late kaboom")
		}
		io.WriteString(w, RequestIDFrom(r.Context()))
	})
	var logs testkit.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := RequestID(AccessLog(Recover(app, log), log))
	tests := []struct {
		path       string
		wantStatus float64
		aborted    bool
	}{
		{"/", 200, false},
		{"/boom", 500, false},
		{"/late", 200, true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.path, nil)
		r.Header.Set(RequestIDHeader, "id-"+tt.path[1:])
		w := httptest.NewRecorder()
		func() {
			defer func() {
				if p := recover(); p != nil && (!tt.aborted || p != http.ErrAbortHandler) {
					t.Errorf("%s: want no panic but ErrAbortHandler for an aborted response, got %v", tt.path, p)
				}
			}()
			h.ServeHTTP(w, r)
		}()
		if tt.path == "/" && w.Body.String() != "id-" {
			t.Errorf("want the handler to see the ID, got %q", w.Body.String())
		}
	}
	lines := messages(logLines(t, logs.String()), "request")
	if len(lines) != len(tests) {
		t.Fatalf("want %d access log lines, got %v", len(tests), lines)
	}
	for i, tt := range tests {
		l := lines[i]
		if l["path"] != tt.path || l["status"] != tt.wantStatus || l["request_id"] != "id-"+tt.path[1:] {
			t.Errorf("%s: want status %v and its ID, got %v", tt.path, tt.wantStatus, l)
		}
		if _, got := l["aborted"]; got != tt.aborted {
			t.Errorf("%s: aborted: want %v, got %v", tt.path, tt.aborted, l)
		}
	}
	if n := len(messages(logLines(t, logs.String()), "panic serving request")); n != 2 {
		t.Errorf("want both panics logged, got %d", n)
	}
}

func TestRequestIDAloneKeepsTheWriter(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if w != http.ResponseWriter(rec) {
			t.Errorf("want the ResponseWriter passed on as it is, got %T", w)
		}
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
}

func TestNilLoggers(t *testing.T) {
	t.Parallel()
	h := AccessLog(Recover(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") }), nil), nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("want a 500 with a nil logger, got %d", w.Code)
	}
}

// TestKeptContextKeepsLittleAlive serves requests whose handler keeps
// their context for work after the response (context.WithoutCancel, the
// usual way), closes the connections, and measures the heap the kept
// contexts hold: the request ID's context must keep neither the request
// (its headers, its body and the connection's reader behind it) nor the
// response (net/http's response and its writer), which it would if it
// shared their allocation.
func TestKeptContextKeepsLittleAlive(t *testing.T) {
	// Not parallel: it reads the heap's size.
	const n = 400
	var mu sync.Mutex
	var kept []context.Context
	srv := httptest.NewServer(RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		kept = append(kept, context.WithoutCancel(r.Context()))
		mu.Unlock()
		io.WriteString(w, "accepted")
	})))
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	body := strings.Repeat("x", 16<<10)
	for i := range n {
		req, err := http.NewRequest("POST", srv.URL+"/jobs?page="+strconv.Itoa(i), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")
		req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
		req.Header.Set("Cookie", "session="+strings.Repeat("s", 200))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	srv.Close()
	client.CloseIdleConnections()

	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	with := heap()
	mu.Lock()
	if len(kept) != n || RequestIDFrom(kept[n-1]) == "" {
		t.Fatalf("want %d kept contexts with their IDs, got %d", n, len(kept))
	}
	kept = nil
	mu.Unlock()
	without := heap()
	per := (float64(with) - float64(without)) / n
	t.Logf("a kept context keeps %.0f bytes alive", per)
	if per > 1024 {
		t.Errorf("want a kept context to keep at most 1 KB alive, got %.0f bytes", per)
	}
}
