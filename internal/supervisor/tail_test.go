package supervisor

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestTailKeepsTheLastLines(t *testing.T) {
	t.Parallel()
	tl := newTail(3)
	if got := tl.lines(); len(got) != 0 {
		t.Errorf("empty: want no lines, got %q", got)
	}
	fmt.Fprint(tl, "one\ntwo\n")
	if want, got := []string{"one", "two"}, tl.lines(); !slices.Equal(want, got) {
		t.Errorf("two lines: want %q, got %q", want, got)
	}
	for i := 3; i <= 7; i++ {
		fmt.Fprintf(tl, "line %d\n", i)
	}
	fmt.Fprint(tl, "unfin")
	fmt.Fprint(tl, "ished")
	if want, got := []string{"line 6", "line 7", "unfinished"}, tl.lines(); !slices.Equal(want, got) {
		t.Errorf("after 7 lines and a partial one: want %q, got %q", want, got)
	}
	fmt.Fprint(tl, "\n"+strings.Repeat("x", 3*maxTailLine)+"\n")
	got := tl.lines()
	if want := []string{"line 7", "unfinished", strings.Repeat("x", maxTailLine)}; !slices.Equal(want, got) {
		t.Errorf("a long line is cut at %d bytes: want %d lines ending in it, got %d lines, the last %d bytes", maxTailLine, len(want), len(got), len(got[len(got)-1]))
	}
}

// Every line of an app's output passes through its generation's tail.
func TestTailAllocatesNothingPerLine(t *testing.T) {
	tl := newTail(tailLines)
	line := []byte(`{"time":"2026-12-02T18:13:02.228423123Z","level":"INFO","msg":"request","method":"GET","path":"/","status":200}` + "\n")
	for range 2 * tailLines {
		tl.Write(line)
	}
	if allocs := testing.AllocsPerRun(1000, func() { tl.Write(line) }); allocs != 0 {
		t.Errorf("want 0 allocations per line once the ring is full, got %v", allocs)
	}
}
