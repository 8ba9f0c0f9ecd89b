package release

import "context"

// debugHeap writes the running app's heap profile to -o FILE, for go tool
// pprof.
func debugHeap(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("debug heap", "-o FILE", "write the running app's heap profile to FILE (go tool pprof reads it)")
	out := fs.String("o", "", "the file to write (must not exist)")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	f, err := createOutput("heap", *out)
	if err != nil {
		return err
	}
	err = r.callDebug(ctx, f, "heap")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
