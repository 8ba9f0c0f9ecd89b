package supervisor

import (
	"io"
	"testing"
	"time"

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
