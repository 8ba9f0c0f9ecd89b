package logbuf

import (
	"io"
	"log/slog"
	"os"
	"testing"
)

// BenchmarkLineIntoPipe is the app's cost per log line when it runs under
// the supervisor, which reads the other end of a pipe: "batched" is what
// the app did before (batches of up to 32 KiB), "direct" what it does now
// (a write(2) per line, batching left to the supervisor).
func BenchmarkLineIntoPipe(b *testing.B) {
	for _, c := range []struct {
		name     string
		interval int
	}{{"batched", 0}, {"direct", -1}} {
		b.Run(c.name, func(b *testing.B) {
			pr, pw, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan struct{})
			go func() { io.Copy(io.Discard, pr); close(done) }()
			interval := DefaultInterval
			if c.interval < 0 {
				interval = -1
			}
			w := New(pw, interval, 0)
			log := slog.New(NewJSONHandler(w, slog.LevelInfo, slog.LevelWarn))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				log.Info("request", "method", "GET", "path", "/", "status", 200, "i", i)
			}
			w.Close()
			b.StopTimer()
			pw.Close()
			<-done
			pr.Close()
		})
	}
}
