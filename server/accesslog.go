package server

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// accessLogger writes the access log's line for a request: through its
// handler as a slog.Record, or, when the handler says it writes records
// exactly as slog's JSON handler does (jsonLineHandler), encoded here from
// the line's fixed fields and handed over whole. The second way is the
// release's logger off a terminal; it costs a third of the first.
type accessLogger struct {
	h     slog.Handler
	quiet []string // paths logged at debug level instead of info (health probes)

	// pc is the record's source, for handlers with AddSource: where the
	// access logger was made, looked up once rather than per request.
	pc uintptr

	// json, when set, takes lines encoded by appendJSON, with attrs (the
	// handler's With attributes, encoded) after the message.
	json  jsonLineHandler
	attrs []byte
}

// jsonLineHandler is implemented by a slog.Handler that can tell that it
// writes every record as slog's JSON handler with no option but Level does
// (internal/logbuf's NewJSONHandler, which the release's logger uses off a
// terminal), and that takes lines its caller encoded: see logbuf's
// Handler.JSONAttrs and Handler.WriteJSON.
type jsonLineHandler interface {
	JSONAttrs() (attrs []byte, ok bool)
	WriteJSON(level slog.Level, line []byte) error
}

func newAccessLogger(log *slog.Logger, quiet []string) *accessLogger {
	a := &accessLogger{h: log.Handler(), quiet: quiet}
	var pcs [1]uintptr
	runtime.Callers(1, pcs[:])
	a.pc = pcs[0]
	if j, ok := a.h.(jsonLineHandler); ok {
		if attrs, ok := j.JSONAttrs(); ok {
			a.json, a.attrs = j, attrs
		}
	}
	return a
}

// levelFor returns the level of path's line.
func (a *accessLogger) levelFor(path string) slog.Level {
	for _, q := range a.quiet {
		if path == q {
			return slog.LevelDebug
		}
	}
	return slog.LevelInfo
}

func (a *accessLogger) enabled(ctx context.Context, level slog.Level) bool {
	return a.h.Enabled(ctx, level)
}

// log writes the line for r, which started at start, was answered through
// sw and has request ID id ("" for none); aborted says that the handler
// did not return (it panicked).
func (a *accessLogger) log(r *http.Request, level slog.Level, start time.Time, sw *statusWriter, id string, aborted bool) {
	ctx := r.Context()
	// As slog.Logger.LogAttrs does: the level may have been raised during
	// the request.
	if !a.h.Enabled(ctx, level) {
		return
	}
	end := time.Now()
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	if a.json != nil {
		b := linePool.Get().(*lineBuf)
		b.b = a.appendJSON(b.b[:0], &b.tc, end, level, r.Method, r.URL.Path, status, sw.bytes, end.Sub(start), id, aborted)
		_ = a.json.WriteJSON(level, b.b)
		if cap(b.b) <= maxPooledLine {
			linePool.Put(b)
		}
		return
	}
	rec := slog.NewRecord(end, level, "request", a.pc)
	rec.AddAttrs(
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", sw.bytes),
		slog.Duration("duration", end.Sub(start)))
	if id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	if aborted {
		rec.AddAttrs(slog.Bool("aborted", true))
	}
	_ = a.h.Handle(ctx, rec)
}

// appendJSON appends the line slog's JSON handler writes for the record
// that log would make, byte for byte (TestAccessLogJSONMatchesSlog and
// FuzzAccessLogJSON hold it to that).
func (a *accessLogger) appendJSON(b []byte, tc *timeCache, t time.Time, level slog.Level, method, path string, status int, n int64, d time.Duration, id string, aborted bool) []byte {
	b = append(b, `{"time":"`...)
	b = tc.appendRFC3339Nano(b, t)
	b = append(b, `","level":"`...)
	b = appendJSONString(b, level.String())
	b = append(b, `","msg":"request"`...)
	b = append(b, a.attrs...)
	b = append(b, `,"method":"`...)
	b = appendJSONString(b, method)
	b = append(b, `","path":"`...)
	b = appendJSONString(b, path)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, n, 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(d), 10)
	if id != "" {
		// IDs hold only characters a JSON string holds as they are
		// (validRequestID, encodeID).
		b = append(b, `,"request_id":"`...)
		b = append(b, id...)
		b = append(b, '"')
	}
	if aborted {
		b = append(b, `,"aborted":true`...)
	}
	return append(b, "}\n"...)
}

// lineBuf is a pooled line buffer, with the time of the last line it held
// formatted up to the second.
type lineBuf struct {
	b  []byte
	tc timeCache
}

// maxPooledLine bounds the buffers kept in linePool: a rare long path must
// not pin a large buffer.
const maxPooledLine = 4 << 10

var linePool = sync.Pool{New: func() any { return &lineBuf{b: make([]byte, 0, 512)} }}

// appendJSONString appends s escaped as slog's JSON handler escapes a
// string (encoding/json without HTML escaping), without the quotes.
func appendJSONString(b []byte, s string) []byte {
	i := 0
	// Eight characters at a time while none needs a look of its own.
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		quote, backslash := x^(ones*'"'), x^(ones*'\\')
		// A byte below 0x20, a zero byte of quote or backslash, or a
		// byte from 0x80 sets that byte's high bit.
		if ((x-ones*0x20)&^x|(quote-ones)&^quote|(backslash-ones)&^backslash|x)&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || !jsonSafe[c] {
			return appendEscapedJSON(append(b, s[:i]...), s[i:])
		}
	}
	return append(b, s...)
}

// appendEscapedJSON is appendJSONString for a string that needs escaping:
// slog's appendEscapedJSONString.
func appendEscapedJSON(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR, which
		// slog escapes for JSONP's sake.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

const hexDigits = "0123456789abcdef"

// jsonSafe tells the ASCII characters that a JSON string holds as they
// are: all but the control characters, '"' and '\\'.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// timeCache formats times as t.AppendFormat(b, time.RFC3339Nano) does,
// which is what slog's JSON handler writes, reusing the date, the time of
// day and the zone from the previous call within the same second: a busy
// access log writes many lines a second, and the full format is a fifth of
// a line's cost.
type timeCache struct {
	sec    int64 // Unix time of prefix and zone; valid only if ok
	loc    *time.Location
	ok     bool
	prefix [len("2006-01-02T15:04:05")]byte
	zone   [len("+07:00")]byte
	nzone  int
}

func (c *timeCache) appendRFC3339Nano(b []byte, t time.Time) []byte {
	sec, loc := t.Unix(), t.Location()
	if !c.ok || sec != c.sec || loc != c.loc {
		n := len(b)
		b = t.AppendFormat(b, time.RFC3339Nano)
		c.fill(b[n:], sec, loc)
		return b
	}
	b = append(b, c.prefix[:]...)
	if ns := t.Nanosecond(); ns != 0 {
		// ".999999999": nine digits less their trailing zeros.
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 1; i -= 2 {
			d := ns % 100 * 2
			frac[i-1], frac[i] = digitPairs[d], digitPairs[d+1]
			ns /= 100
		}
		frac[1] = byte('0' + ns)
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, c.zone[:c.nzone]...)
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// fill remembers the date, time of day and zone of f, a time formatted
// as RFC 3339 with nanoseconds, for times in second sec at loc. Years of
// other than four digits are not remembered.
func (c *timeCache) fill(f []byte, sec int64, loc *time.Location) {
	c.ok = false
	i := len(c.prefix)
	if len(f) <= i || f[4] != '-' || f[i-9] != 'T' {
		return
	}
	if f[i] == '.' {
		i++
		for i < len(f) && '0' <= f[i] && f[i] <= '9' {
			i++
		}
	}
	zone := f[i:]
	if len(zone) == 0 || len(zone) > len(c.zone) {
		return
	}
	copy(c.prefix[:], f)
	c.nzone = copy(c.zone[:], zone)
	c.sec, c.loc, c.ok = sec, loc, true
}
