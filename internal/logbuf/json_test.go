package logbuf

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// TestJSONHandlerWritesAsSlog checks that NewJSONHandler changes nothing
// that is written: its records are slog's JSON handler's, level filtering
// included.
func TestJSONHandlerWritesAsSlog(t *testing.T) {
	t.Parallel()
	var want, got bytes.Buffer
	ww, gw := New(&want, -1, 0), New(&got, -1, 0)
	old := slog.New(NewHandler(slog.NewJSONHandler(ww, &slog.HandlerOptions{Level: slog.LevelInfo}), ww, nil))
	new := slog.New(NewJSONHandler(gw, slog.LevelInfo, nil))
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, log := range []*slog.Logger{old, new} {
		l := log.With("app", "hello", "n", 1).WithGroup("g").With("x", true)
		for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelError} {
			if !l.Enabled(context.Background(), level) {
				continue
			}
			r := slog.NewRecord(at, level, "msg", 0)
			r.AddAttrs(slog.String("k", "v"))
			if err := l.Handler().Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want.String() != got.String() || want.Len() == 0 {
		t.Fatalf("want slog's lines\n%s got\n%s", want.String(), got.String())
	}
}

// counter is a LogValuer whose value changes each time it is asked.
type counter struct{ n *int }

func (c counter) LogValue() slog.Value { *c.n++; return slog.IntValue(*c.n) }

func TestJSONAttrs(t *testing.T) {
	t.Parallel()
	w := New(&bytes.Buffer{}, -1, 0)
	h := NewJSONHandler(w, nil, nil)
	n := 0
	tests := []struct {
		name   string
		h      slog.Handler
		want   string
		wantOK bool
	}{
		{"none", h, ``, true},
		{"one", h.WithAttrs([]slog.Attr{slog.String("app", "hello")}), `,"app":"hello"`, true},
		{"two calls", h.WithAttrs([]slog.Attr{slog.String("app", "hel\"lo")}).WithAttrs([]slog.Attr{slog.Int("n", 1), slog.Duration("d", time.Second)}),
			`,"app":"hel\"lo","n":1,"d":1000000000`, true},
		{"group value", h.WithAttrs([]slog.Attr{slog.Group("g", "a", 1, slog.Group("empty"))}), `,"g":{"a":1}`, true},
		{"empty group alone", h.WithAttrs([]slog.Attr{slog.Group("empty")}), ``, true},
		{"LogValuer resolved once", h.WithAttrs([]slog.Attr{slog.Any("c", counter{&n})}), `,"c":1`, true},
		{"after WithGroup", h.WithGroup("g"), ``, false},
		{"error value", h.WithAttrs([]slog.Attr{slog.Any("err", errors.New("x"))}), ``, false},
		{"any value", h.WithAttrs([]slog.Attr{slog.Any("m", map[string]int{"a": 1})}), ``, false},
		{"from NewHandler", NewHandler(slog.NewJSONHandler(w, nil), w, nil), ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.h.(*Handler).JSONAttrs()
			if ok != tt.wantOK || ok && string(got) != tt.want {
				t.Errorf("want %q %v, got %q %v", tt.want, tt.wantOK, got, ok)
			}
		})
	}
	if n != 1 {
		t.Errorf("want the LogValuer asked once, got %d times", n)
	}
}

func TestWriteJSONFlushesAsHandle(t *testing.T) {
	t.Parallel()
	cw := &countingWriter{}
	h := NewJSONHandler(New(cw, time.Hour, 1<<20), nil, slog.LevelWarn)
	if err := h.WriteJSON(slog.LevelInfo, []byte("info\n")); err != nil {
		t.Fatal(err)
	}
	if n, _ := cw.snapshot(); n != 0 {
		t.Fatalf("want an info line batched, got %d writes", n)
	}
	if err := h.WriteJSON(slog.LevelWarn, []byte("warn\n")); err != nil {
		t.Fatal(err)
	}
	if n, all := cw.snapshot(); n != 1 || all != "info\nwarn\n" {
		t.Fatalf("want both lines written at once after a warning, got %d writes: %q", n, all)
	}
}
