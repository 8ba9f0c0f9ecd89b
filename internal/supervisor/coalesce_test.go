package supervisor

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// lineReader returns one line per Read, at once, as a pipe does when the
// app writes a line per request and the supervisor keeps up; block makes
// the reads numbered in it wait first, as for an app that fell quiet.
type lineReader struct {
	lines []string
	reads int
	block map[int]time.Duration
}

func (r *lineReader) Read(p []byte) (int, error) {
	r.reads++
	if d := r.block[r.reads]; d > 0 {
		time.Sleep(d)
	}
	if len(r.lines) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.lines[0])
	r.lines[0] = r.lines[0][n:]
	if r.lines[0] == "" {
		r.lines = r.lines[1:]
	}
	return n, nil
}

func numbered(n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("line %d\n", i)
	}
	return lines
}

func TestCoalescerSleepsOnlyInABurst(t *testing.T) {
	var slept int
	sleep := func(time.Duration) { slept++ }

	// A short burst (a boot, a crash's last lines) passes at once.
	short := coalesceAfter - 1
	c := &coalescer{r: &lineReader{lines: numbered(short)}, wait: coalesceWait, sleep: sleep}
	var out bytes.Buffer
	copyLines(&out, c)
	if slept != 0 {
		t.Errorf("a burst of %d lines: slept %d times before reads, want none", short, slept)
	}
	if want := strings.Join(numbered(short), ""); out.String() != want {
		t.Errorf("a burst of %d lines: passed on %q, want %q", short, out.String(), want)
	}

	// A steady stream: after coalesceAfter reads, a sleep before each.
	slept = 0
	const n = 200
	c = &coalescer{r: &lineReader{lines: numbered(n)}, wait: coalesceWait, sleep: sleep}
	out.Reset()
	copyLines(&out, c)
	// n reads of a line and one of EOF; the first coalesceAfter do not
	// wait.
	if want := n + 1 - coalesceAfter; slept != want {
		t.Errorf("a stream of %d lines: slept %d times, want %d", n, slept, want)
	}
	if want := strings.Join(numbered(n), ""); out.String() != want {
		t.Errorf("a stream of %d lines lost or reordered lines", n)
	}

	// A read that waits longer than wait ends the burst.
	slept = 0
	pause := coalesceAfter + 10
	c = &coalescer{r: &lineReader{lines: numbered(n), block: map[int]time.Duration{pause: 2 * coalesceWait}}, wait: coalesceWait, sleep: sleep}
	out.Reset()
	copyLines(&out, c)
	// The pause's read sleeps first; the coalesceAfter after it do not.
	if want := n + 1 - 2*coalesceAfter; slept != want {
		t.Errorf("a stream of %d lines with a pause at read %d: slept %d times, want %d", n, pause, slept, want)
	}
}

// A read that fills its buffer leaves more waiting: the next read does
// not sleep.
func TestCoalescerReadsOnWhileTheBufferFills(t *testing.T) {
	var slept int
	long := strings.Repeat("x", 100<<10) + "\n"
	lines := append(numbered(coalesceAfter), long)
	c := &coalescer{r: &lineReader{lines: slices.Clone(lines)}, wait: coalesceWait, sleep: func(time.Duration) { slept++ }}
	var out bytes.Buffer
	copyLines(&out, c)
	if out.String() != strings.Join(lines, "") {
		t.Fatal("the long line was not passed on whole")
	}
	// After coalesceAfter lines, reads of the start of the long line (64
	// KiB: the buffer is full), of its rest and of EOF: only the first
	// and the last sleep.
	if slept != 2 {
		t.Errorf("slept %d times, want 2 (none after a read that filled the buffer)", slept)
	}
}

func TestCoalesceWaitFor(t *testing.T) {
	for _, tt := range []struct {
		size int
		want time.Duration
	}{
		{outputPipeSize, coalesceWait},
		{4 << 20, coalesceWait},
		{64 << 10, 2500 * time.Microsecond},
		{16 << 10, 625 * time.Microsecond},
	} {
		if got := coalesceWaitFor(tt.size); got != tt.want {
			t.Errorf("coalesceWaitFor(%d) = %v, want %v", tt.size, got, tt.want)
		}
	}
}
