package migrate

import (
	"io"
	"log/slog"
	"time"
)

// Options configures a [Migrator]. The zero value is ready to use: each
// field's comment states its default.
type Options struct {
	// LockTimeout bounds connecting to the database, retries included (a
	// database that refuses connections or is still starting is tried
	// again until then), and waiting for the migration lock that keeps
	// concurrent runs (replicas starting at once) apart. A run that times
	// out changes nothing and leaves no lock behind. It does not bound the
	// migrations themselves. Default: 1 minute ([DefaultLockTimeout]).
	LockTimeout time.Duration

	// Logger receives one record per migration applied or reverted, with
	// its duration, and one per failed connection attempt. Default:
	// discarded.
	Logger *slog.Logger

	// Command is how operators run the release, used in the recovery
	// commands errors print: "links" gives "links migrate force 3".
	// Default: "app".
	Command string
}

// DefaultLockTimeout is the default Options.LockTimeout.
const DefaultLockTimeout = time.Minute

func (o Options) withDefaults() Options {
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Command == "" {
		o.Command = "app"
	}
	return o
}

// RollbackOptions selects what [Migrator.Rollback] reverts. Set at most one
// field; the zero value reverts the last applied migration.
type RollbackOptions struct {
	// Step reverts the last Step applied migrations. Zero means unset: 1
	// when To and All are unset too. A command line that takes -step must
	// itself refuse an explicit 0.
	Step int

	// To reverts migration To and every migration applied after it, as
	// Ecto's `rollback(repo, version)` does: afterwards the database is at
	// the version before To. Zero means unset.
	To uint

	// All reverts every applied migration.
	All bool
}
