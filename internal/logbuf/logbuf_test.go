package logbuf

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingWriter records each write it is given.
type countingWriter struct {
	mu     sync.Mutex
	writes [][]byte
	err    error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func (c *countingWriter) snapshot() (n int, all string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.writes), string(bytes.Join(c.writes, nil))
}

func TestBatchesWithinInterval(t *testing.T) {
	t.Parallel()
	cw := &countingWriter{}
	w := New(cw, 50*time.Millisecond, 1<<20)
	for i := 0; i < 100; i++ {
		w.Write([]byte("line\n"))
	}
	if n, _ := cw.snapshot(); n != 0 {
		t.Fatalf("want nothing written before the interval, got %d writes", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if n, all := cw.snapshot(); n > 0 {
			if want, got := 1, n; want != got {
				t.Fatalf("want %d write for 100 lines, got %d", want, got)
			}
			if want := strings.Repeat("line\n", 100); all != want {
				t.Fatalf("lines lost or reordered: got %d bytes", len(all))
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the batch was never written")
}

func TestFlushesWhenFull(t *testing.T) {
	t.Parallel()
	cw := &countingWriter{}
	w := New(cw, time.Hour, 10)
	w.Write([]byte("0123456789AB"))
	if n, all := cw.snapshot(); n != 1 || all != "0123456789AB" {
		t.Fatalf("want one write once the buffer is full, got %d %q", n, all)
	}
}

func TestCloseWritesTheRest(t *testing.T) {
	t.Parallel()
	cw := &countingWriter{}
	w := New(cw, time.Hour, 1<<20)
	w.Write([]byte("a\n"))
	w.Write([]byte("b\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, all := cw.snapshot(); all != "a\nb\n" {
		t.Fatalf("want everything written on Close, got %q", all)
	}
	w.Write([]byte("c\n"))
	if _, all := cw.snapshot(); all != "a\nb\nc\n" {
		t.Fatalf("want writes after Close to go straight through, got %q", all)
	}
}

func TestNegativeIntervalWritesThrough(t *testing.T) {
	t.Parallel()
	cw := &countingWriter{}
	w := New(cw, -1, 0)
	w.Write([]byte("x"))
	if n, _ := cw.snapshot(); n != 1 {
		t.Fatalf("want each write passed through, got %d writes", n)
	}
}

func TestWriteErrorIsReported(t *testing.T) {
	t.Parallel()
	cw := &countingWriter{err: errors.New("disk full")}
	w := New(cw, time.Hour, 1<<20)
	w.Write([]byte("x"))
	if err := w.Flush(); err == nil || err.Error() != "disk full" {
		t.Fatalf("want the write error from Flush, got %v", err)
	}
	if _, err := w.Write([]byte("y")); err == nil {
		t.Fatal("want later writes to report the failure")
	}
}

func TestHandlerFlushesWarningsAtOnce(t *testing.T) {
	t.Parallel()
	cw := &countingWriter{}
	w := New(cw, time.Hour, 1<<20)
	log := slog.New(NewHandler(slog.NewJSONHandler(w, nil), w, nil)).With("app", "x")
	log.Info("request")
	if n, _ := cw.snapshot(); n != 0 {
		t.Fatalf("info must wait for the batch, got %d writes", n)
	}
	log.WithGroup("g").Warn("disk almost full")
	n, all := cw.snapshot()
	if n != 1 || !strings.Contains(all, `"msg":"request"`) || !strings.Contains(all, `"msg":"disk almost full"`) {
		t.Fatalf("want the warning and what came before it written at once, got %d writes: %s", n, all)
	}
}

func BenchmarkJSONLog(b *testing.B) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
	}{{"unbuffered", -1}, {"batched", DefaultInterval}} {
		b.Run(tc.name, func(b *testing.B) {
			w := New(discardSyscall{}, tc.interval, 0)
			log := slog.New(NewHandler(slog.NewJSONHandler(w, nil), w, nil))
			b.ReportAllocs()
			for b.Loop() {
				log.Info("request", "method", "GET", "path", "/", "status", 200)
			}
			w.Close()
		})
	}
}

// discardSyscall stands for a pipe or file: each Write costs what a
// write(2) costs, which io.Discard does not.
type discardSyscall struct{}

func (discardSyscall) Write(p []byte) (int, error) {
	time.Sleep(0) // a scheduling point, like a system call
	return devNull.Write(p)
}

// A writer that does not batch holds no buffer: every app under the
// supervisor writes its log that way, so the buffer would be memory that
// each generation pays for and never uses.
func TestUnbatchedWriterAllocatesNoBuffer(t *testing.T) {
	if n := testing.AllocsPerRun(10, func() { sink = New(io.Discard, -1, DefaultSize) }); n > 1 {
		t.Errorf("New with batching off: want 1 allocation (the Writer), got %v", n)
	}
}

// sink keeps New's result on the heap in the test above.
var sink *Writer
