package release

import (
	"context"
	"io"
	"runtime/pprof"

	"github.com/relkit/relkit/internal/control"
)

// debugStack prints every goroutine's stack of the running app, as
// SIGQUIT would, without stopping it.
func debugStack(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("debug stack", "", "print every goroutine's stack of the running app")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	return r.callDebug(ctx, r.stdout, "stack")
}

func serveDebugStack(_ context.Context, _ *runner, _ []string, w io.Writer) control.Result {
	if err := pprof.Lookup("goroutine").WriteTo(w, 2); err != nil {
		return control.Fail(ExitFailure, "debug stack: %v", err)
	}
	return control.Result{}
}
