package release

import (
	"context"
	"io"
	"runtime/pprof"

	"github.com/relkit/relkit/internal/control"
)

// debugHeap writes the running app's heap profile to -o FILE, for go tool
// pprof.
func debugHeap(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("debug heap", "-o FILE", "write the running app's heap profile to FILE (go tool pprof reads it)")
	out := fs.String("o", "", "the file to write (must not exist)")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	return r.debugToFile(ctx, "heap", *out)
}

func serveDebugHeap(_ context.Context, _ *runner, _ []string, w io.Writer) control.Result {
	if err := pprof.Lookup("heap").WriteTo(w, 0); err != nil {
		return control.Fail(ExitFailure, "debug heap: %v", err)
	}
	return control.Result{}
}
