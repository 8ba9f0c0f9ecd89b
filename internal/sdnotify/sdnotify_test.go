package sdnotify

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestSendReceive(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "notify.sock")
	r, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := Send(r.Path(), Ready, "STATUS=hello 1.0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := r.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"READY=1", "STATUS=hello 1.0"}; !slices.Equal(want, got) {
		t.Fatalf("want %q, got %q", want, got)
	}
}

func TestSendWithoutSocketIsNoop(t *testing.T) {
	t.Parallel()
	if err := Send("", Ready); err != nil {
		t.Fatalf("want nil for an empty NOTIFY_SOCKET, got %v", err)
	}
}

func TestSendToMissingSocketFails(t *testing.T) {
	t.Parallel()
	if err := Send(filepath.Join(t.TempDir(), "absent.sock"), Ready); err == nil {
		t.Fatal("want an error for a socket that does not exist")
	}
}

func TestReceiveHonoursContext(t *testing.T) {
	t.Parallel()
	r, err := Listen(filepath.Join(t.TempDir(), "n.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := r.Receive(ctx); err != context.DeadlineExceeded {
		t.Fatalf("want DeadlineExceeded, got %v", err)
	}
}

func TestReceiveAfterCancelledReceive(t *testing.T) {
	t.Parallel()
	r, err := Listen(filepath.Join(t.TempDir(), "n.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := r.Receive(ctx); err != context.DeadlineExceeded {
		t.Fatalf("want DeadlineExceeded, got %v", err)
	}
	// The wake-up of the first call must not leak into the next one.
	if err := Send(r.Path(), Stopping); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	got, err := r.Receive(ctx2)
	if err != nil || !slices.Equal(got, []string{Stopping}) {
		t.Fatalf("want [STOPPING=1], got %q, %v", got, err)
	}
}
