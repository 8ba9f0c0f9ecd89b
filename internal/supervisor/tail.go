package supervisor

import (
	"bytes"
	"sync"
)

// maxTailLine bounds one line kept by a tail.
const maxTailLine = 1024

// tail keeps the last lines written to it (each at most maxTailLine
// bytes), for reporting why a generation failed. Writes are whole lines or
// pieces of one, as copyLines makes them. Every line of an app's output
// passes through it, so it keeps them in a ring of buffers it reuses:
// passing a line on allocates nothing, and the supervisor's heap does not
// grow with the app's traffic.
type tail struct {
	mu      sync.Mutex
	n       int
	ring    [][]byte // the last lines, ring[next] the oldest once full
	next    int
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
	if t.n <= 0 {
		t.partial = t.partial[:0]
		return
	}
	if len(t.ring) < t.n {
		t.ring = append(t.ring, nil)
		t.next = len(t.ring) - 1
	}
	t.ring[t.next] = append(t.ring[t.next][:0], t.partial...)
	t.next = (t.next + 1) % t.n
	t.partial = t.partial[:0]
}

// lines returns the kept lines, oldest first, with an unfinished last line.
func (t *tail) lines() []string {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	if len(t.ring) < t.n {
		for _, l := range t.ring {
			out = append(out, string(l))
		}
	} else {
		for i := range t.n {
			out = append(out, string(t.ring[(t.next+i)%t.n]))
		}
	}
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	if len(out) > t.n {
		out = out[len(out)-t.n:]
	}
	return out
}
