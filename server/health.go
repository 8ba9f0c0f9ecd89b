package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Check is a readiness check: something the application needs before it
// can serve traffic, such as its database.
type Check struct {
	// Name identifies the check in 503 responses and logs, e.g. "db".
	// Required.
	Name string

	// Func returns nil when the dependency is usable. ctx carries the
	// check's timeout. Required.
	Func func(ctx context.Context) error

	// Timeout bounds one run of Func; running out counts as a failure.
	// Default 5s ([DefaultCheckTimeout]).
	Timeout time.Duration
}

// health serves the liveness and readiness endpoints.
type health struct {
	checks   []Check
	log      *slog.Logger
	draining atomic.Bool
}

func validateChecks(checks []Check) error {
	seen := make(map[string]bool, len(checks))
	for i, c := range checks {
		switch {
		case c.Name == "":
			return fmt.Errorf("server: readiness check #%d has no Name; give every check a name", i+1)
		case c.Func == nil:
			return fmt.Errorf("server: readiness check %q has no Func", c.Name)
		case seen[c.Name]:
			return fmt.Errorf("server: two readiness checks are named %q; names must be unique", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// failure is one failed check.
type failure struct {
	name string
	err  error
}

// run runs every check concurrently, each bounded by its timeout, and
// returns the failures in the order the checks were given.
func (h *health) run(ctx context.Context) []failure {
	if len(h.checks) == 0 {
		return nil
	}
	errs := make([]error, len(h.checks))
	var wg sync.WaitGroup
	for i, c := range h.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = runCheck(ctx, c)
		}()
	}
	wg.Wait()
	var out []failure
	for i, err := range errs {
		if err != nil {
			out = append(out, failure{h.checks[i].Name, err})
		}
	}
	return out
}

func runCheck(ctx context.Context, c Check) (err error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("check panicked: %v", p)
			}
		}()
		done <- c.Func(ctx)
	}()
	// A check that ignores its context still counts as failed when the
	// timeout runs out; its goroutine finishes on its own.
	select {
	case err := <-done:
		if err == nil && ctx.Err() != nil {
			return fmt.Errorf("check took longer than its %s timeout", c.Timeout)
		}
		return err
	case <-ctx.Done():
		return fmt.Errorf("check took longer than its %s timeout: %w", c.Timeout, ctx.Err())
	}
}

// logFailures logs failed checks at warn level. The error text goes to the
// log only, never into the response.
func (h *health) logFailures(ctx context.Context, fs []failure) {
	for _, f := range fs {
		h.log.LogAttrs(ctx, slog.LevelWarn, "readiness check failed",
			slog.String("check", f.name), slog.String("error", f.err.Error()))
	}
}

func (h *health) serveLive(w http.ResponseWriter, _ *http.Request) {
	writePlain(w, http.StatusOK, "ok\n")
}

func (h *health) serveReady(w http.ResponseWriter, r *http.Request) {
	if h.draining.Load() {
		writePlain(w, http.StatusServiceUnavailable, "not ready: draining\n")
		return
	}
	fs := h.run(r.Context())
	if h.draining.Load() {
		writePlain(w, http.StatusServiceUnavailable, "not ready: draining\n")
		return
	}
	if len(fs) > 0 {
		h.logFailures(r.Context(), fs)
		names := make([]string, len(fs))
		for i, f := range fs {
			names[i] = f.name
		}
		writePlain(w, http.StatusServiceUnavailable, "not ready: "+strings.Join(names, ", ")+"\n")
		return
	}
	writePlain(w, http.StatusOK, "ok\n")
}

// waitReady runs the checks until they all pass, backing off between
// rounds, and returns nil then, or ctx's error.
func (h *health) waitReady(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		fs := h.run(ctx)
		if len(fs) == 0 {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		h.logFailures(ctx, fs)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func writePlain(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprint(w, body)
}
