package server

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime/debug"
	"time"
)

// RequestIDHeader is the header carrying a request's ID, in both
// directions.
const RequestIDHeader = "X-Request-ID"

// maxRequestIDLen bounds an incoming request ID (Heroku's router and
// Plug.RequestId accept up to 200 characters).
const maxRequestIDLen = 200

// requestIDHeaderKey is RequestIDHeader in canonical form, for direct
// header map access: Header.Get and Set would allocate a canonical copy of
// the non-canonical "ID" on every request.
var requestIDHeaderKey = http.CanonicalHeaderKey(RequestIDHeader)

type requestIDKey struct{}

// requestIDCtx carries a request ID. It is context.WithValue in one
// allocation instead of two (the value would be boxed into an interface).
type requestIDCtx struct {
	context.Context
	id string
}

func (c *requestIDCtx) Value(key any) any {
	if key == (requestIDKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// RequestIDFrom returns the request ID that [RequestID] stored in ctx, or
// "" when there is none.
func RequestIDFrom(ctx context.Context) string {
	if c, ok := ctx.Value(requestIDKey{}).(*requestIDCtx); ok {
		return c.id
	}
	return ""
}

// RequestID returns middleware that gives every request an ID: the
// incoming X-Request-ID when it is valid (1 to 200 characters from
// A-Z a-z 0-9 and "-_.:+/=@", so that it cannot forge log lines), else a
// fresh random one. The ID is set on the response's X-Request-ID header and
// in the request's context ([RequestIDFrom]).
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id string
		if v := r.Header[requestIDHeaderKey]; len(v) > 0 {
			id = v[0]
		}
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header()[requestIDHeaderKey] = []string{id}
		next.ServeHTTP(w, r.WithContext(&requestIDCtx{Context: r.Context(), id: id}))
	})
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '+', c == '/', c == '=', c == '@':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 128 random bits, base64url encoded (22 characters).
// IDs must be unique, not secret: the runtime's per-thread ChaCha8
// generator behind math/rand/v2 is unpredictable enough and costs no
// system call.
func newRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Recover returns middleware that turns a panic in next into a 500
// response, logging the panic and its stack once through log at error
// level; the server keeps serving. When the response had already started,
// the connection is aborted instead so that the client cannot mistake a
// truncated response for a complete one. A panic with
// [http.ErrAbortHandler] is passed on untouched.
func Recover(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := wrapStatus(w)
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			log.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("request_id", RequestIDFrom(r.Context())),
				slog.String("panic", fmt.Sprint(p)),
				slog.String("stack", string(debug.Stack())))
			if sw.wroteHeader {
				panic(http.ErrAbortHandler)
			}
			// Drop whatever the handler had set (cookies, a
			// Content-Length...) before answering.
			h := sw.Header()
			for k := range h {
				if k != requestIDHeaderKey && k != "Connection" {
					delete(h, k)
				}
			}
			http.Error(sw, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		}()
		next.ServeHTTP(sw, r)
	})
}

// AccessLog returns middleware that logs one line per request through log
// at info level: method, path (never the query, which may carry tokens),
// status, bytes written, duration and the request ID.
func AccessLog(next http.Handler, log *slog.Logger) http.Handler {
	return accessLog(next, log, nil)
}

// accessLog is AccessLog logging requests whose path is in quiet (health
// probes) at debug level instead.
func accessLog(next http.Handler, log *slog.Logger, quiet map[string]bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := wrapStatus(w)
		level := slog.LevelInfo
		if quiet[r.URL.Path] {
			level = slog.LevelDebug
		}
		ctx := r.Context()
		if !log.Enabled(ctx, level) {
			next.ServeHTTP(sw, r)
			return
		}
		aborted := true
		defer func() {
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)),
			}
			if id := RequestIDFrom(ctx); id != "" {
				attrs = append(attrs, slog.String("request_id", id))
			}
			if aborted {
				attrs = append(attrs, slog.Bool("aborted", true))
			}
			log.LogAttrs(ctx, level, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
		aborted = false
	})
}

// statusWriter records the status and size of a response. It keeps the
// optional interfaces of the ResponseWriter it wraps reachable: Flush,
// Hijack and ReadFrom directly, everything else through Unwrap and
// [http.ResponseController].
type statusWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

// wrapStatus wraps w, or returns it when it is already a statusWriter so
// that stacked middleware share one.
func wrapStatus(w http.ResponseWriter) *statusWriter {
	if sw, ok := w.(*statusWriter); ok {
		return sw
	}
	return &statusWriter{ResponseWriter: w}
}

func (w *statusWriter) WriteHeader(code int) {
	// 1xx responses (103 Early Hints) may precede the final status.
	if !w.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps io.Copy into the response on the sendfile/splice path.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(w.ResponseWriter, r)
	}
	w.bytes += n
	return n, err
}

func (w *statusWriter) Flush() {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets [http.ResponseController] reach the wrapped writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
