package supervisor

import (
	"io"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
	"golang.org/x/sys/unix"
)

// The output pipe's read end is blocking, outside the runtime's poller,
// and the pipe holds outputPipeSize bytes.
func TestOutputPipe(t *testing.T) {
	r, w, size, err := outputPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := r.SetReadDeadline(time.Now()); err == nil {
		t.Error("the read end is in the runtime's poller (a deadline can be set), want a blocking file")
	}
	got, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got < outputPipeSize || size != got {
		t.Errorf("the pipe holds %d bytes, outputPipe says %d, want %d", got, size, outputPipeSize)
	}
	go func() { w.Write([]byte("hello\n")); w.Close() }()
	b, err := io.ReadAll(r)
	if err != nil || string(b) != "hello\n" {
		t.Errorf("read %q, %v; want %q", b, err, "hello\n")
	}
}

// A pausing coalescer passes on what the pipe holds when flush asks,
// before flush returns: the supervisor's own line follows the app's lines
// written before it, however long the pause would have been.
func TestCoalescerFlush(t *testing.T) {
	r, w, _, err := outputPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c := newCoalescer(r, time.Hour)
	c.burst = coalesceAfter // a busy stream: every read pauses first
	var out testkit.Buffer
	done := make(chan struct{})
	go func() { copyLines(&out, c); r.Close(); close(done) }()
	const lines = "one\ntwo\nthree\n"
	if _, err := w.Write([]byte(lines)); err != nil {
		t.Fatal(err)
	}
	// The copier pauses before its first read; flush reaches it there.
	for !c.flush(10 * time.Second) {
		time.Sleep(time.Millisecond)
	}
	if got := out.String(); got != lines {
		t.Errorf("after flush the copier passed on %q, want %q", got, lines)
	}
	w.Close()
	c.flush(time.Second) // ends the pause; the read finds EOF
	<-done
}
