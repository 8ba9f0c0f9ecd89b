package migrate

import (
	"context"
	"database/sql"
)

// OpenDB opens a connection pool for the application's own queries on the
// database at databaseURL, through the driver registered for its scheme,
// and checks that the database answers within ctx. The application owns the
// pool; migrations never use it.
//
// The URL schemes are those of [New]: postgres://, postgresql://, ecto://,
// mysql://, sqlite://PATH and sqlite3://PATH. An unknown scheme or a driver
// that is not imported is a [*URLError] naming the import that adds it.
func OpenDB(ctx context.Context, databaseURL string) (*sql.DB, error) {
	drv, err := lookup(databaseURL)
	if err != nil {
		return nil, err
	}
	db, err := drv.OpenDB(ctx, databaseURL)
	if ue := urlError(databaseURL, err); ue != nil {
		return nil, ue
	}
	return db, err
}

// Engine names the database engine behind databaseURL, "PostgreSQL",
// "MySQL" or "SQLite", for applications whose SQL differs per engine (bind
// parameters are $1 on PostgreSQL, ? elsewhere). Errors are those of
// [OpenDB].
func Engine(databaseURL string) (string, error) {
	drv, err := lookup(databaseURL)
	if err != nil {
		return "", err
	}
	return drv.Engine, nil
}
