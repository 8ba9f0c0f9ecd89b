package supervisor

import (
	"bytes"
	"sync"
)

// maxTailLine bounds one line kept by a tail.
const maxTailLine = 1024

// tail keeps the last lines written to it (each at most maxTailLine
// bytes), for reporting why a generation failed. Writes are whole lines or
// pieces of one, as copyLines makes them.
type tail struct {
	mu      sync.Mutex
	n       int
	buf     []string
	partial []byte
}

func newTail(n int) *tail { return &tail{n: n} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			t.add(rest)
			break
		}
		t.add(rest[:i])
		t.push()
		rest = rest[i+1:]
	}
	return len(p), nil
}

func (t *tail) add(b []byte) {
	if room := maxTailLine - len(t.partial); room > 0 {
		t.partial = append(t.partial, b[:min(len(b), room)]...)
	}
}

func (t *tail) push() {
	t.buf = append(t.buf, string(t.partial))
	t.partial = t.partial[:0]
	if len(t.buf) > t.n {
		t.buf = t.buf[len(t.buf)-t.n:]
	}
}

// lines returns the kept lines, oldest first, with an unfinished last line.
func (t *tail) lines() []string {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.buf...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	if len(out) > t.n {
		out = out[len(out)-t.n:]
	}
	return out
}
