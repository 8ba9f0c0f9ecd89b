package release

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLogLevelOverrides checks that -for reverts to the level the app
// booted with, that a later change cancels an earlier revert, and that
// reset goes back at once.
func TestLogLevelOverrides(t *testing.T) {
	r := &runner{}
	r.ops.level.Set(slog.LevelInfo)
	set := func(args ...string) string {
		t.Helper()
		var b strings.Builder
		if res := serveDebugLogLevel(context.Background(), r, args, &b); res.Status != 0 {
			t.Fatalf("log-level %v: %s", args, res.Error)
		}
		return b.String()
	}
	if out := set("debug", "30ms"); !strings.Contains(out, "DEBUG for 30ms, then INFO") {
		t.Errorf("log-level debug 30ms: got %q", out)
	}
	waitLevel := func(want slog.Level) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for r.ops.level.Level() != want {
			if time.Now().After(deadline) {
				t.Fatalf("level: want %v, got %v", want, r.ops.level.Level())
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitLevel(slog.LevelInfo)
	set("debug", "20ms")
	set("warn", "0s") // cancels the revert of the one before
	time.Sleep(60 * time.Millisecond)
	if got := r.ops.level.Level(); got != slog.LevelWarn {
		t.Errorf("after debug -for 20ms then warn: want WARN after 60ms, got %v", got)
	}
	if out := set("reset", "0s"); !strings.Contains(out, "INFO (LOG_LEVEL), was WARN") {
		t.Errorf("log-level reset: got %q", out)
	}
	waitLevel(slog.LevelInfo)
	if res := serveDebugLogLevel(context.Background(), r, []string{"loud", "0s"}, io.Discard); res.Status != ExitUsage {
		t.Errorf("log-level loud: want status 64, got %d", res.Status)
	}
}
