package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
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
// The ID is p and n rather than a string, which keeps the allocation in
// the 48-byte size class (a string would make it 64): p points at the ID's
// first byte, in buf for a fresh ID, else in the incoming header's value;
// n is its length, 1 to maxRequestIDLen.
//
// It is kept apart from the rest of a request's state (requestState), at
// the price of a second allocation, so that a context kept after the
// response keeps only itself alive. A handler that goes on working after
// its response, with context.WithoutCancel(r.Context()), keeps this
// context and its parent, net/http's per-request context, which refers to
// neither the request nor the connection. Were the context part of
// requestState, it would keep the request copy (its headers, its body,
// whose reader holds the connection's 4 KB bufio.Reader, a parsed
// multipart form) and the status writer (net/http's response, its 2 KB
// bufio.Writer, the connection): TestKeptContextKeepsLittleAlive, serving
// POSTs with a 16 KB body, measures 0.5 to 0.6 KB kept per context this
// way (this context, net/http's and WithoutCancel's) and 4.1 KB the other.
type requestIDCtx struct {
	context.Context
	p   *byte
	buf [22]byte // a fresh ID's characters
	n   uint8
}

// The ID's length fits requestIDCtx.n.
var _ [255 - maxRequestIDLen]struct{}

func (c *requestIDCtx) Value(key any) any {
	if key == (requestIDKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// id returns the request ID. The bytes behind it are never written again
// (buf is written once, by newID, before id is first called; the incoming
// header's value is a string): the string may share them, as
// strings.Builder's does.
func (c *requestIDCtx) id() string { return unsafe.String(c.p, int(c.n)) }

// setID makes s, a valid incoming ID, the request's ID.
func (c *requestIDCtx) setID(s string) {
	c.p, c.n = unsafe.StringData(s), uint8(len(s))
}

// RequestIDFrom returns the request ID that [RequestID] stored in ctx, or
// "" when there is none.
func RequestIDFrom(ctx context.Context) string {
	if c, ok := ctx.Value(requestIDKey{}).(*requestIDCtx); ok {
		return c.id()
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

// newID makes 128 random bits, base64url encoded (22 characters) in
// c.buf, the request's ID. IDs must be unique, not secret: the runtime's
// per-thread ChaCha8 generator behind math/rand/v2 is unpredictable enough
// and costs no system call.
func (c *requestIDCtx) newID() {
	encodeID(&c.buf, rand.Uint64(), rand.Uint64())
	c.p, c.n = &c.buf[0], uint8(len(c.buf))
}

// idAlphabet is base64url's.
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// encodeID writes the unpadded base64url encoding of lo and hi as 16
// little-endian bytes: base64.RawURLEncoding.Encode in a tenth of the
// instructions. Byte-swapped, lo and hi are the 128 bits in the order
// base64 reads them, six at a time from the top: characters 0-9 are x's
// first 60 bits, character 10 x's last 4 and y's first 2, characters 11-20
// y's next 60 bits and character 21 y's last 2, padded with zeros.
func encodeID(dst *[22]byte, lo, hi uint64) {
	x, y := bits.ReverseBytes64(lo), bits.ReverseBytes64(hi)
	dst[0] = idAlphabet[x>>58]
	dst[1] = idAlphabet[x>>52&0x3F]
	dst[2] = idAlphabet[x>>46&0x3F]
	dst[3] = idAlphabet[x>>40&0x3F]
	dst[4] = idAlphabet[x>>34&0x3F]
	dst[5] = idAlphabet[x>>28&0x3F]
	dst[6] = idAlphabet[x>>22&0x3F]
	dst[7] = idAlphabet[x>>16&0x3F]
	dst[8] = idAlphabet[x>>10&0x3F]
	dst[9] = idAlphabet[x>>4&0x3F]
	dst[10] = idAlphabet[(x<<2|y>>62)&0x3F]
	dst[11] = idAlphabet[y>>56&0x3F]
	dst[12] = idAlphabet[y>>50&0x3F]
	dst[13] = idAlphabet[y>>44&0x3F]
	dst[14] = idAlphabet[y>>38&0x3F]
	dst[15] = idAlphabet[y>>32&0x3F]
	dst[16] = idAlphabet[y>>26&0x3F]
	dst[17] = idAlphabet[y>>20&0x3F]
	dst[18] = idAlphabet[y>>14&0x3F]
	dst[19] = idAlphabet[y>>8&0x3F]
	dst[20] = idAlphabet[y>>2&0x3F]
	dst[21] = idAlphabet[y<<4&0x3F]
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
// it on its own), the status writer, and the ID header's value. It is 352
// bytes, a size class of its own (TestMiddlewareAllocations holds a
// request to 400 bytes with its context's 48).
type requestState struct {
	req http.Request
	sw  statusWriter
	hdr [1]string
}

func (c *chain) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var st *requestState
	var ctx *requestIDCtx
	if c.requestID {
		ctx = &requestIDCtx{Context: r.Context()}
		if v := r.Header[requestIDHeaderKey]; len(v) > 0 && validRequestID(v[0]) {
			ctx.setID(v[0])
		} else {
			ctx.newID()
		}
		st = new(requestState)
		st.hdr[0] = ctx.id()
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
	if !logging {
		// Recovery alone: a deferred call with nothing to capture.
		defer c.recoverOnly(sw, r)
		c.next.ServeHTTP(sw, r)
		return
	}
	id := ""
	if ctx != nil {
		id = ctx.id()
	}
	start := time.Now()
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
		if !c.requestID {
			id = RequestIDFrom(r.Context())
		}
		c.access.log(r, level, start, sw, id, !returned && !handled)
		if repanic != nil {
			panic(repanic)
		}
	}()
	c.next.ServeHTTP(sw, r)
	returned = true
}

// recoverOnly is the deferred call of a chain that recovers and does not
// log.
func (c *chain) recoverOnly(sw *statusWriter, r *http.Request) {
	if p := recover(); p != nil {
		if repanic := c.recovered(p, sw, r); repanic != nil {
			panic(repanic)
		}
	}
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
	if sw.status != 0 {
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
	status int // 0 until the response starts (only 101 and from 200 count)
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	// 1xx responses (103 Early Hints) may precede the final status.
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// WriteString keeps io.WriteString into the response free of a copy when
// the wrapped writer has WriteString (net/http's has).
func (w *statusWriter) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.WriteString(w.ResponseWriter, s)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps io.Copy into the response on the sendfile/splice path.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
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
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets [http.ResponseController] reach the wrapped writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
