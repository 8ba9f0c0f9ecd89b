package logbuf

import (
	"bytes"
	"context"
	"log/slog"
	"time"
)

// NewJSONHandler returns the Handler that NewHandler(slog.NewJSONHandler(w,
// &slog.HandlerOptions{Level: level}), w, flush) returns, which moreover
// knows how its records are encoded: [Handler.JSONAttrs] tells a caller
// that logs a fixed kind of line on a hot path (a server's access log) that
// it may encode the line itself and hand it to [Handler.WriteJSON].
func NewJSONHandler(w *Writer, level, flush slog.Leveler) *Handler {
	h := NewHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}), w, flush)
	h.json = true
	return h
}

// JSONAttrs reports whether h writes every record as slog's JSON handler
// without ReplaceAttr, AddSource or groups does, and returns the attributes
// added with WithAttrs as that handler writes them after the message, e.g.
// `,"app":"hello"` (nil when there are none). It is false for a Handler
// from [NewHandler], after WithGroup, and after WithAttrs with a value that
// is not a string, number, bool, duration, time or group of those once
// resolved: such values could encode differently twice.
func (h *Handler) JSONAttrs() ([]byte, bool) { return h.jsonAttrs, h.json }

// WriteJSON writes line, which must be a whole record (its newline
// included) exactly as Handle would have written it, for a caller that got
// true from JSONAttrs and true from Enabled for level; like Handle, it
// flushes when level is at or above the handler's flush level.
func (h *Handler) WriteJSON(level slog.Level, line []byte) error {
	_, err := h.w.Write(line)
	if level >= h.level.Level() {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// withJSONAttrs returns h2, which has attrs, with its JSONAttrs: h's
// followed by attrs encoded by slog's JSON handler itself. attrs must have
// been resolved (resolveAttrs) before h2's inner handler got them, so that
// no LogValuer runs twice.
func (h *Handler) withJSONAttrs(h2 *Handler, attrs []slog.Attr) {
	if !h.json || !plainValues(attrs) {
		return
	}
	var buf bytes.Buffer
	err := slog.NewJSONHandler(&buf, nil).WithAttrs(attrs).Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, "", 0))
	enc, ok := bytes.CutPrefix(buf.Bytes(), []byte(`{"level":"INFO","msg":""`))
	if enc, ok2 := bytes.CutSuffix(enc, []byte("}\n")); err == nil && ok && ok2 {
		h2.json = true
		h2.jsonAttrs = append(h.jsonAttrs[:len(h.jsonAttrs):len(h.jsonAttrs)], enc...)
	}
}

// resolveAttrs returns attrs with every LogValuer resolved, in groups too.
func resolveAttrs(attrs []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		a.Value = a.Value.Resolve()
		if a.Value.Kind() == slog.KindGroup {
			a.Value = slog.GroupValue(resolveAttrs(a.Value.Group())...)
		}
		out[i] = a
	}
	return out
}

// plainValues reports whether resolved attrs hold only values that slog
// encodes the same way every time.
func plainValues(attrs []slog.Attr) bool {
	for _, a := range attrs {
		switch a.Value.Kind() {
		case slog.KindAny, slog.KindLogValuer:
			return false
		case slog.KindGroup:
			if !plainValues(a.Value.Group()) {
				return false
			}
		}
	}
	return true
}
