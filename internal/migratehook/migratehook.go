// Package migratehook lets package release run migrations without
// importing package migrate, so that an application without a database
// links no database code. Package migrate registers itself here when it is
// linked, which a driver package (migrate/postgres, migrate/mysql,
// migrate/sqlite) brings about, as database/sql drivers do.
package migratehook

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"sync"
	"time"
)

// Imports maps the DATABASE_URL schemes relkit supports to the driver
// package that adds each.
var Imports = map[string]string{
	"postgres":   "github.com/relkit/relkit/migrate/postgres",
	"postgresql": "github.com/relkit/relkit/migrate/postgres",
	"ecto":       "github.com/relkit/relkit/migrate/postgres",
	"mysql":      "github.com/relkit/relkit/migrate/mysql",
	"sqlite":     "github.com/relkit/relkit/migrate/sqlite",
	"sqlite3":    "github.com/relkit/relkit/migrate/sqlite",
}

// Options mirror migrate.Options.
type Options struct {
	LockTimeout time.Duration
	Logger      *slog.Logger
	Command     string
}

// Result is what a run did.
type Result struct {
	// Ran names the migrations applied or reverted, in order: "003_add_clicks".
	Ran []string
	// Version is the database's version afterwards, "none" before any.
	Version string
}

// Migrator is what release needs of a migrate.Migrator.
type Migrator interface {
	// Up applies every pending migration (migrate.Migrator.Up).
	Up(ctx context.Context) (Result, error)
	// Rollback reverts the last step migrations (step 0: one), or to and
	// every migration after it, or all (migrate.Migrator.Rollback). Step 0
	// means "not given": a command must refuse an explicit 0 itself.
	Rollback(ctx context.Context, step int, to uint, all bool) (Result, error)
	// RollbackAfter reverts every applied migration newer than version
	// (-1: all), leaving the database at version, which need not be one of
	// the binary's migrations (migrate.Migrator.RollbackAfter): what
	// downgrading to a release whose newest migration is version needs,
	// run with the newer binary.
	RollbackAfter(ctx context.Context, version int) (Result, error)
	// WriteStatus writes the status table to w, then returns an error
	// matching ErrDirty, with the recovery advice, when the database is
	// dirty.
	WriteStatus(ctx context.Context, w io.Writer) error
	Force(ctx context.Context, version int) error
	Check(ctx context.Context) error
	// SchemaVersion returns the database's version: its newest applied
	// migration, -1 before any.
	SchemaVersion(ctx context.Context) (int, error)
	// Latest returns the version of the binary's newest migration, -1
	// when it has none. It reads no database.
	Latest() int
	// Applied returns the versions recorded as applied, oldest first:
	// what Rollback chooses from.
	Applied(ctx context.Context) ([]int, error)
}

// Impl is package migrate's entry points.
type Impl struct {
	New    func(fsys fs.FS, databaseURL string, opts Options) (Migrator, error)
	Create func(dir, name string, now time.Time) (up, down string, err error)
}

// Error kinds the adapter marks, so release can pick exit codes and hints.
var (
	// ErrConfig marks a database URL this binary cannot use.
	ErrConfig = errors.New("configuration")
	// ErrNewerSchema marks a database migrated by a newer release.
	ErrNewerSchema = errors.New("newer schema")
	// ErrLockTimeout marks a run that timed out connecting or waiting for
	// the lock.
	ErrLockTimeout = errors.New("lock timeout")
	// ErrDirty marks a database marked dirty: a run that refused to
	// migrate it, or a status that found it so.
	ErrDirty = errors.New("dirty")
)

var (
	mu   sync.Mutex
	impl *Impl
)

// Register is called by package migrate's init.
func Register(i Impl) {
	mu.Lock()
	defer mu.Unlock()
	impl = &i
}

// Get returns package migrate's entry points, false when it is not linked.
func Get() (Impl, bool) {
	mu.Lock()
	defer mu.Unlock()
	if impl == nil {
		return Impl{}, false
	}
	return *impl, true
}
