package release

import (
	"context"
	"fmt"
	"strconv"
)

// debugCPU profiles the running app's CPU for -seconds and writes the
// profile to -o FILE, for go tool pprof.
func debugCPU(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("debug cpu", "[-seconds N] -o FILE", "profile the running app's CPU for N seconds into FILE (go tool pprof reads it)")
	out := fs.String("o", "", "the file to write (must not exist)")
	secs := fs.Int("seconds", 30, "how long to profile, 1 to 300")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if *secs < 1 || *secs > 300 {
		return &UsageError{Problem: fmt.Sprintf("debug cpu: -seconds %d is not 1 to 300", *secs), Try: r.app.name + " debug cpu -seconds 10 -o cpu.pprof"}
	}
	f, err := createOutput("cpu", *out)
	if err != nil {
		return err
	}
	err = r.callDebug(ctx, f, "cpu", strconv.Itoa(*secs))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
