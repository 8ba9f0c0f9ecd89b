//go:build !v2

package main

import (
	"context"
	"database/sql"
	"embed"
)

// 1.0.0 knows migration 001 only.
//
//go:embed migrations/001_*.sql
var migrationFiles embed.FS

func read(ctx context.Context, db *sql.DB) (n int64, last string, err error) {
	err = db.QueryRowContext(ctx, "SELECT count(*), coalesce(max(body), '') FROM notes").Scan(&n, &last)
	return n, last, err
}

func write(ctx context.Context, db *sql.DB, version string) error {
	_, err := db.ExecContext(ctx, "INSERT INTO notes (body) VALUES ($1)", "from "+version)
	return err
}

func readiness() error { return nil }
