package release

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lmittmann/tint"
	"github.com/relkit/relkit/internal/logfile"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"10m", now.Add(-10 * time.Minute)},
		{"2026-12-02T14:00:00Z", time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)},
		{"2026-12-01 09:15", time.Date(2026, 12, 1, 9, 15, 0, 0, time.UTC)},
		{"2026-12-01", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"14:05", time.Date(2026, 12, 2, 14, 5, 0, 0, time.UTC)},
	} {
		got, err := parseSince(c.in, now)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("parseSince(%q): want %v, got %v %v", c.in, c.want, got, err)
		}
	}
	for _, bad := range []string{"yesterday", "-5m", ""} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q): want an error", bad)
		}
	}
}

// TestLogTextAsTint checks that a JSON line is printed as tint prints the
// record it came from, attributes and groups in their order.
func TestLogTextAsTint(t *testing.T) {
	var js, want bytes.Buffer
	at := time.Date(2026, 12, 2, 14, 30, 1, 5e6, time.Local)
	rec := slog.NewRecord(at, slog.LevelWarn, "slow request", 0)
	rec.AddAttrs(slog.Int("generation", 2), slog.String("path", "/a b"), slog.Group("db", slog.Float64("ms", 12.5), slog.Bool("tx", true)))
	slog.NewJSONHandler(&js, nil).Handle(context.Background(), rec)
	tint.NewTextHandler(&want, &tint.Options{TimeFormat: "2006-01-02 15:04:05.000", NoColor: true}).Handle(context.Background(), rec)
	r := &runner{env: nil}
	var got bytes.Buffer
	r.printerFor(&got, false, true)(bytes.TrimSuffix(js.Bytes(), []byte("\n")))
	if got.String() != want.String() {
		t.Errorf("text of %s: want %q, got %q", js.String(), want.String(), got.String())
	}
	got.Reset()
	r.printerFor(&got, false, true)([]byte("panic: boom"))
	if got.String() != "panic: boom\n" {
		t.Errorf("a line that is not JSON: want it as it is, got %q", got.String())
	}
}

// TestFileTailFollowsRotation writes, rotates and writes again while a
// fileTail follows: every line arrives once, in order, the unfinished
// line only when finished.
func TestFileTailFollowsRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	w, err := logfile.Open(path, logfile.Options{MaxSize: 1 << 20, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f, err := logfile.OpenRead(path)
	if err != nil {
		t.Fatal(err)
	}
	ft := &fileTail{path: path, f: f}
	defer func() { ft.f.Close() }()
	var got []string
	collect := func(l []byte) { got = append(got, string(l)) }
	fmt.Fprint(w, "one\ntw")
	ft.poll(collect)
	fmt.Fprint(w, "o\n")
	ft.poll(collect)
	fmt.Fprint(w, "three\n")
	w.Rotate()
	fmt.Fprint(w, "four\n")
	ft.poll(collect)
	ft.poll(collect)
	fmt.Fprint(w, "five\n")
	ft.poll(collect)
	if want := "one two three four five"; strings.Join(got, " ") != want {
		t.Errorf("followed lines: want %q, got %q", want, strings.Join(got, " "))
	}
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Errorf("the rotation did not happen: %v", err)
	}
}
