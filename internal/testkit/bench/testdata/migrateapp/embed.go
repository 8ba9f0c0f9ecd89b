//go:build bench

package main

import (
	"embed"
	"io/fs"
)

//go:embed migrations/*.sql
var embedded embed.FS

func init() { migrations, _ = fs.Sub(embedded, "migrations") }
