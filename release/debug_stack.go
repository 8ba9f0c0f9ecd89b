package release

import "context"

// debugStack prints every goroutine's stack of the running app, as
// SIGQUIT would, without stopping it.
func debugStack(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("debug stack", "", "print every goroutine's stack of the running app")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	return r.callDebug(ctx, r.stdout, "stack")
}
