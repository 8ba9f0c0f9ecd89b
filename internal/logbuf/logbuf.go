// Package logbuf batches log output: lines are collected and written with
// one write(2) at most Interval apart, instead of one write per line — what
// nginx's `access_log ... buffer=` does. A busy HTTP server logs a line per
// request, and the write per line, not the formatting, is most of what an
// access log costs.
//
// [Handler] wraps a slog.Handler so that records at or above a level
// (warnings and errors by default) are written at once: what an operator
// needs right away never waits. Close writes what is left.
package logbuf

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Defaults for [New].
const (
	DefaultInterval = 100 * time.Millisecond
	DefaultSize     = 32 << 10
)

// Writer collects writes and passes them on in batches. It is safe for
// concurrent use; each Write reaches the underlying writer whole.
type Writer struct {
	mu       sync.Mutex
	w        io.Writer
	buf      []byte
	size     int
	interval time.Duration
	timer    *time.Timer
	err      error
}

// New returns a Writer over w that writes a batch when size bytes are
// waiting or interval after the first write of a batch, whichever comes
// first. Zero values mean DefaultInterval and DefaultSize; an interval
// below zero disables batching: every Write goes straight through.
func New(w io.Writer, interval time.Duration, size int) *Writer {
	if interval == 0 {
		interval = DefaultInterval
	}
	if size <= 0 {
		size = DefaultSize
	}
	b := &Writer{w: w, size: size, interval: interval}
	if interval > 0 {
		// A writer that does not batch (interval < 0, as under the
		// supervisor) never fills a buffer: it costs no memory.
		b.buf = make([]byte, 0, size)
	}
	return b
}

// Write queues p. It returns the error of an earlier failed batch, if any.
func (b *Writer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.interval < 0 {
		return b.w.Write(p)
	}
	if b.err != nil {
		return 0, b.err
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= b.size {
		b.flushLocked()
	} else if b.timer == nil {
		b.timer = time.AfterFunc(b.interval, func() { b.Flush() })
	}
	return len(p), nil
}

// Flush writes what is waiting now.
func (b *Writer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	return b.err
}

func (b *Writer) flushLocked() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if len(b.buf) == 0 {
		return
	}
	if _, err := b.w.Write(b.buf); err != nil && b.err == nil {
		b.err = err
	}
	b.buf = b.buf[:0]
}

// Close writes what is waiting. Later writes go straight through.
func (b *Writer) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	b.interval = -1
	return b.err
}

// Handler passes records to its inner handler, which writes to w, and
// flushes w after every record at or above Level.
type Handler struct {
	inner slog.Handler
	w     *Writer
	level slog.Leveler

	json      bool   // see JSONAttrs
	jsonAttrs []byte // see JSONAttrs
}

// NewHandler wraps inner, which writes to w; records at level or above
// (nil: slog.LevelWarn) are flushed at once.
func NewHandler(inner slog.Handler, w *Writer, level slog.Leveler) *Handler {
	if level == nil {
		level = slog.LevelWarn
	}
	return &Handler{inner: inner, w: w, level: level}
}

// Enabled reports whether the inner handler handles level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle passes r on and flushes when r is at or above the handler's level.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	err := h.inner.Handle(ctx, r)
	if r.Level >= h.level.Level() {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// WithAttrs returns a Handler whose inner handler has attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if !h.json {
		return &Handler{inner: h.inner.WithAttrs(attrs), w: h.w, level: h.level}
	}
	attrs = resolveAttrs(attrs)
	h2 := &Handler{inner: h.inner.WithAttrs(attrs), w: h.w, level: h.level}
	h.withJSONAttrs(h2, attrs)
	return h2
}

// WithGroup returns a Handler whose inner handler opens group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{inner: h.inner.WithGroup(name), w: h.w, level: h.level}
}
