package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime/debug"
	"time"
	"unsafe"
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

// requestIDCtx carries a request ID: context.WithValue in one allocation
// instead of three (the boxed value and the ID's bytes would be two more).
// It is kept apart from the rest of a request's state (requestState) so
// that a context kept after the request keeps only itself alive.
type requestIDCtx struct {
	context.Context
	id  string
	buf [22]byte // a fresh ID's characters; id points here
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
	return &chain{next: next, requestID: true}
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

// newID sets c.id to 128 random bits, base64url encoded (22 characters),
// in c.buf. IDs must be unique, not secret: the runtime's per-thread
// ChaCha8 generator behind math/rand/v2 is unpredictable enough and costs
// no system call.
func (c *requestIDCtx) newID() {
	encodeID(&c.buf, rand.Uint64(), rand.Uint64())
	// c.buf is never written again: the string may share it, as
	// strings.Builder's does.
	c.id = unsafe.String(&c.buf[0], len(c.buf))
}

// idAlphabet is base64url's.
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// encodeID writes the unpadded base64url encoding of lo and hi as 16
// little-endian bytes: base64.RawURLEncoding.Encode in a fifth of the
// instructions.
func encodeID(dst *[22]byte, lo, hi uint64) {
	// Three bytes make four characters: lo's bytes 0-2, 3-5, then 6-7
	// with hi's byte 0, then hi's bytes 1-3, 4-6; hi's last byte makes two.
	enc3 := func(d *[4]byte, v uint64) {
		d[0] = idAlphabet[v>>18&0x3F]
		d[1] = idAlphabet[v>>12&0x3F]
		d[2] = idAlphabet[v>>6&0x3F]
		d[3] = idAlphabet[v&0x3F]
	}
	be3 := func(x uint64) uint64 { return x&0xFF<<16 | x>>8&0xFF<<8 | x>>16&0xFF }
	enc3((*[4]byte)(dst[0:4]), be3(lo))
	enc3((*[4]byte)(dst[4:8]), be3(lo>>24))
	enc3((*[4]byte)(dst[8:12]), lo>>48&0xFF<<16|lo>>56<<8|hi&0xFF)
	enc3((*[4]byte)(dst[12:16]), be3(hi>>8))
	enc3((*[4]byte)(dst[16:20]), be3(hi>>32))
	dst[20] = idAlphabet[hi>>58]
	dst[21] = idAlphabet[hi>>56<<4&0x3F]
}

// Recover returns middleware that turns a panic in next into a 500
// response, logging the panic and its stack once through log at error
// level; the server keeps serving. When the response had already started,
// the connection is aborted instead so that the client cannot mistake a
// truncated response for a complete one. A panic with
// [http.ErrAbortHandler] is passed on untouched. A nil log discards the
// panics' messages.
func Recover(next http.Handler, log *slog.Logger) http.Handler {
	if log == nil {
		log = discard
	}
	return &chain{next: next, recover: log}
}

// AccessLog returns middleware that logs one line per request through log
// at info level: method, path (never the query, which may carry tokens),
// status, bytes written, duration and the request ID. A nil log logs
// nothing.
//
// When log's handler is the release's JSON handler (internal/logbuf's
// NewJSONHandler), the line is encoded by the access log itself, byte for
// byte as the handler would, at a third of the cost; any other handler
// gets a slog.Record, whose source, for handlers with AddSource, is the
// access log.
func AccessLog(next http.Handler, log *slog.Logger) http.Handler {
	if log == nil {
		log = discard
	}
	return &chain{next: next, access: newAccessLogger(log, nil)}
}

// discard is the logger of middleware given none.
var discard = slog.New(slog.DiscardHandler)

// chain is RequestID, AccessLog and Recover, in that order from the
// outside in, as one handler: a request costs one allocation for its
// state and one for its ID's context instead of one or more per layer, and
// one deferred call. Each of the three is a chain with only its part on.
type chain struct {
	next      http.Handler
	requestID bool
	access    *accessLogger // nil: no access log
	recover   *slog.Logger  // nil: panics are not recovered
}

// requestState is a request's state in a chain: the copy of the request
// that carries the ID's context (http.Request.WithContext would allocate
// it on its own), the status writer, and the ID header's value.
type requestState struct {
	req http.Request
	sw  statusWriter
	hdr [1]string
}

func (c *chain) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var st *requestState
	id := ""
	if c.requestID {
		ctx := &requestIDCtx{Context: r.Context()}
		if v := r.Header[requestIDHeaderKey]; len(v) > 0 && validRequestID(v[0]) {
			ctx.id = v[0]
		} else {
			ctx.newID()
		}
		id = ctx.id
		st = new(requestState)
		st.hdr[0] = id
		w.Header()[requestIDHeaderKey] = st.hdr[:]
		st.req = *r.WithContext(ctx) // inlined: only st is allocated
		r = &st.req
	}
	logging := false
	level := slog.LevelInfo
	if c.access != nil {
		level = c.access.levelFor(r.URL.Path)
		logging = c.access.enabled(r.Context(), level)
	}
	if !logging && c.recover == nil {
		c.next.ServeHTTP(w, r)
		return
	}
	sw, ok := w.(*statusWriter) // stacked middleware share one
	if !ok {
		if st == nil {
			st = new(requestState)
		}
		st.sw.ResponseWriter = w
		sw = &st.sw
	}
	var start time.Time
	if logging {
		start = time.Now()
	}
	returned := false
	defer func() {
		handled := false
		var repanic any
		if c.recover != nil {
			if p := recover(); p != nil {
				repanic = c.recovered(p, sw, r)
				handled = repanic == nil
			}
		}
		if logging {
			if !c.requestID {
				id = RequestIDFrom(r.Context())
			}
			c.access.log(r, level, start, sw, id, !returned && !handled)
		}
		if repanic != nil {
			panic(repanic)
		}
	}()
	c.next.ServeHTTP(sw, r)
	returned = true
}

// recovered handles p, which next panicked with: it logs p and answers 500,
// or returns what to panic with to abort the response.
func (c *chain) recovered(p any, sw *statusWriter, r *http.Request) any {
	if p == http.ErrAbortHandler {
		return p
	}
	c.recover.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("request_id", RequestIDFrom(r.Context())),
		slog.String("panic", fmt.Sprint(p)),
		slog.String("stack", string(debug.Stack())))
	if sw.wroteHeader {
		return http.ErrAbortHandler
	}
	// Drop whatever the handler had set (cookies, a Content-Length...)
	// before answering.
	h := sw.Header()
	for k := range h {
		if k != requestIDHeaderKey && k != "Connection" {
			delete(h, k)
		}
	}
	http.Error(sw, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	return nil
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

// WriteString keeps io.WriteString into the response free of a copy when
// the wrapped writer has WriteString (net/http's has).
func (w *statusWriter) WriteString(s string) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := io.WriteString(w.ResponseWriter, s)
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
