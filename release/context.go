package release

import "context"

// Info describes the running release.
type Info struct {
	Name    string
	Version string
}

type infoKey struct{}

func withInfo(ctx context.Context, i Info) context.Context {
	return context.WithValue(ctx, infoKey{}, i)
}

// InfoFrom returns the release's name and version from a context given to a
// Handler or a task.
func InfoFrom(ctx context.Context) Info {
	i, _ := ctx.Value(infoKey{}).(Info)
	return i
}
