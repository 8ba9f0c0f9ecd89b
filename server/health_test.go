package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
)

func TestReadiness(t *testing.T) {
	t.Parallel()
	ok := func(context.Context) error { return nil }
	fail := func(context.Context) error { return errors.New("dial postgres://app:hunter2@db: refused") }
	slow := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	deaf := func(context.Context) error { time.Sleep(time.Second); return nil } // ignores its context
	boom := func(context.Context) error { panic("boom") }
	tests := []struct {
		name     string
		checks   []Check
		wantCode int
		wantBody string
	}{
		{"no checks", nil, 200, "ok\n"},
		{"all pass", []Check{{Name: "db", Func: ok}, {Name: "cache", Func: ok}}, 200, "ok\n"},
		{"one fails", []Check{{Name: "db", Func: fail}, {Name: "cache", Func: ok}}, 503, "not ready: db\n"},
		{"several fail, in order", []Check{{Name: "a", Func: fail}, {Name: "b", Func: ok}, {Name: "c", Func: fail}}, 503, "not ready: a, c\n"},
		{"timeout", []Check{{Name: "slow", Func: slow, Timeout: 50 * time.Millisecond}}, 503, "not ready: slow\n"},
		{"timeout ignoring context", []Check{{Name: "deaf", Func: deaf, Timeout: 50 * time.Millisecond}}, 503, "not ready: deaf\n"},
		{"panic", []Check{{Name: "boom", Func: boom}}, 503, "not ready: boom\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs testkit.Buffer
			s := New(http.NotFoundHandler(), Options{Checks: tt.checks, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			w := httptest.NewRecorder()
			start := time.Now()
			s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
			if w.Code != tt.wantCode || w.Body.String() != tt.wantBody {
				t.Errorf("want %d %q, got %d %q", tt.wantCode, tt.wantBody, w.Code, w.Body.String())
			}
			if took := time.Since(start); took > 900*time.Millisecond {
				t.Errorf("want checks bounded by their timeouts, /readyz took %s", took)
			}
			if strings.Contains(w.Body.String(), "hunter2") {
				t.Error("want check errors kept out of the response")
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("want Cache-Control no-store, got %q", w.Header().Get("Cache-Control"))
			}
			if tt.wantCode == 503 {
				failed := messages(logLines(t, logs.String()), "readiness check failed")
				if len(failed) == 0 || failed[0]["check"] == nil || failed[0]["error"] == nil {
					t.Errorf("want the failure logged with the check's name and error, got %v", failed)
				}
			}
		})
	}
}

func TestHealthPaths(t *testing.T) {
	t.Parallel()
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app") })
	tests := []struct {
		name     string
		opts     Options
		path     string
		wantBody string
	}{
		{"default liveness", Options{}, "/healthz", "ok\n"},
		{"default readiness", Options{}, "/readyz", "ok\n"},
		{"custom liveness", Options{HealthPath: "/-/live"}, "/-/live", "ok\n"},
		{"custom readiness", Options{ReadyPath: "/-/ready"}, "/-/ready", "ok\n"},
		{"moved path goes to the app", Options{HealthPath: "/-/live"}, "/healthz", "app"},
		{"disabled", Options{DisableHealth: true}, "/healthz", "app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			New(app, tt.opts).Handler().ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
			if w.Body.String() != tt.wantBody {
				t.Errorf("GET %s: want %q, got %q", tt.path, tt.wantBody, w.Body.String())
			}
		})
	}
}
