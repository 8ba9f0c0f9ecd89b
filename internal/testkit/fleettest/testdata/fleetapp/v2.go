//go:build v2

package main

import (
	"context"
	"database/sql"
	"embed"
)

// 2.0.0 adds migration 002, the column author its handler uses.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

func read(ctx context.Context, db *sql.DB) (n int64, last string, err error) {
	err = db.QueryRowContext(ctx, "SELECT count(*), coalesce(max(author), '') FROM notes").Scan(&n, &last)
	return n, last, err
}

func write(ctx context.Context, db *sql.DB, version string) error {
	_, err := db.ExecContext(ctx, "INSERT INTO notes (body, author) VALUES ($1, $2)", "from "+version, "release "+version)
	return err
}
