package migrate

import (
	"context"
	"errors"
	"io"
	"io/fs"

	"github.com/relkit/relkit/internal/migratehook"
)

// Linking package migrate (any driver package does) enables the migrate
// and rollback commands of github.com/relkit/relkit/release.
func init() {
	migratehook.Register(migratehook.Impl{
		New: func(fsys fs.FS, databaseURL string, opts migratehook.Options) (migratehook.Migrator, error) {
			m, err := New(fsys, databaseURL, Options{LockTimeout: opts.LockTimeout, Logger: opts.Logger, Command: opts.Command})
			if err != nil {
				return nil, mark(err)
			}
			return hooked{m}, nil
		},
		Create: Create,
	})
}

// hooked adapts a Migrator to what release needs.
type hooked struct{ m *Migrator }

func (h hooked) Up(ctx context.Context) (migratehook.Result, error) {
	r, err := h.m.Up(ctx)
	return result(r), mark(err)
}

func (h hooked) Rollback(ctx context.Context, step int, to uint, all bool) (migratehook.Result, error) {
	r, err := h.m.Rollback(ctx, RollbackOptions{Step: step, To: to, All: all})
	return result(r), mark(err)
}

func (h hooked) RollbackAfter(ctx context.Context, version int) (migratehook.Result, error) {
	r, err := h.m.RollbackAfter(ctx, version)
	return result(r), mark(err)
}

func (h hooked) WriteStatus(ctx context.Context, w io.Writer) error {
	st, err := h.m.Status(ctx)
	if err != nil {
		return mark(err)
	}
	if err := st.WriteTable(w); err != nil {
		return err
	}
	return mark(st.Err())
}

func (h hooked) Latest() int { return h.m.Latest() }

func (h hooked) Applied(ctx context.Context) ([]int, error) {
	st, err := h.m.Status(ctx)
	if err != nil {
		return nil, mark(err)
	}
	var out []int
	for _, ms := range st.Migrations {
		switch ms.State {
		case Applied, Edited, Missing:
			out = append(out, int(ms.Version))
		}
	}
	return out, nil
}

func (h hooked) Force(ctx context.Context, version int) error { return mark(h.m.Force(ctx, version)) }
func (h hooked) Check(ctx context.Context) error              { return mark(h.m.Check(ctx)) }

func (h hooked) SchemaVersion(ctx context.Context) (int, error) {
	st, err := h.m.Status(ctx)
	return st.Version, mark(err)
}

func result(r Result) migratehook.Result {
	out := migratehook.Result{Version: FormatVersion(r.Version)}
	for _, x := range r.Ran {
		out.Ran = append(out.Ran, x.String())
	}
	return out
}

// marked is an error with a kind release acts on; it reads as the error.
type marked struct {
	err  error
	kind error
}

func (e *marked) Error() string   { return e.err.Error() }
func (e *marked) Unwrap() []error { return []error{e.err, e.kind} }

func mark(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnsupportedURL):
		return &marked{err, migratehook.ErrConfig}
	case errors.Is(err, ErrNewerSchema):
		return &marked{err, migratehook.ErrNewerSchema}
	case errors.Is(err, ErrLockTimeout):
		return &marked{err, migratehook.ErrLockTimeout}
	case errors.Is(err, ErrDirty):
		return &marked{err, migratehook.ErrDirty}
	}
	return err
}
