package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"

	"github.com/relkit/relkit/internal/sdnotify"
)

func TestNotifyLifecycle(t *testing.T) {
	t.Parallel()
	r, err := sdnotify.Listen(filepath.Join(t.TempDir(), "notify.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var dbUp atomic.Bool
	_, s, stop := startServer(t, http.NotFoundHandler(), Options{
		Name: "hello", Version: "1.2.3",
		Env: map[string]string{
			"NOTIFY_SOCKET": r.Path(),
			"WATCHDOG_USEC": "100000",
			"WATCHDOG_PID":  strconv.Itoa(os.Getpid()),
		},
		Checks: []Check{{Name: "db", Func: func(context.Context) error {
			if !dbUp.Load() {
				return errors.New("down")
			}
			return nil
		}}},
	})

	// READY=1 waits for the readiness checks.
	msg := receiveFirst(t, r, func(m []string) bool { return slices.Contains(m, "STATUS=hello 1.2.3: waiting for readiness checks") })
	if slices.Contains(msg, sdnotify.Ready) {
		t.Fatalf("want no READY=1 while the db check fails, got %q", msg)
	}
	watchdogs := 0
	for watchdogs < 2 {
		msg := receiveFirst(t, r, func([]string) bool { return true })
		if slices.Contains(msg, sdnotify.Ready) {
			t.Fatalf("want no READY=1 while the db check fails, got %q", msg)
		}
		if slices.Contains(msg, sdnotify.Watchdog) {
			watchdogs++
		}
	}
	dbUp.Store(true)
	msg = receiveFirst(t, r, func(m []string) bool { return slices.Contains(m, sdnotify.Ready) })
	if want := "STATUS=hello 1.2.3: serving on " + s.Addr().String(); !slices.Contains(msg, want) {
		t.Errorf("want %q with READY=1, got %q", want, msg)
	}

	go stop()
	msg = receiveFirst(t, r, func(m []string) bool { return slices.Contains(m, sdnotify.Stopping) })
	if want := "STATUS=hello 1.2.3: draining"; !slices.Contains(msg, want) {
		t.Errorf("want %q with STOPPING=1, got %q", want, msg)
	}
}

func receiveFirst(t *testing.T, r *sdnotify.Receiver, match func([]string) bool) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		msg, err := r.Receive(ctx)
		if err != nil {
			t.Fatalf("no matching notification: %v", err)
		}
		if match(msg) {
			return msg
		}
	}
}

func TestWatchdogInterval(t *testing.T) {
	t.Parallel()
	const pid = 77
	tests := []struct {
		name string
		env  map[string]string
		want time.Duration
	}{
		{"unset", nil, 0},
		{"set", map[string]string{"WATCHDOG_USEC": "30000000"}, 30 * time.Second},
		{"for us", map[string]string{"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "77"}, 2 * time.Second},
		{"for another process", map[string]string{"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, 0},
		{"malformed", map[string]string{"WATCHDOG_USEC": "soon"}, 0},
		{"zero", map[string]string{"WATCHDOG_USEC": "0"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := watchdogInterval(tt.env, pid, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if got != tt.want {
				t.Errorf("want %s, got %s", tt.want, got)
			}
		})
	}
}

func TestNotifyFailureIsNotFatal(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	url, _, stop := startServer(t, http.NotFoundHandler(), Options{
		Env:    map[string]string{"NOTIFY_SOCKET": filepath.Join(t.TempDir(), "absent.sock")},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("want a clean shutdown despite a missing NOTIFY_SOCKET, got %v", err)
	}
	if !strings.Contains(logs.String(), "systemd notification failed") {
		t.Errorf("want the failed notification logged, got %q", logs.String())
	}
}
