package migrate_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing/fstest"
	"time"

	"github.com/relkit/relkit/migrate"
	_ "github.com/relkit/relkit/migrate/sqlite"
)

func Example() {
	dir, _ := os.MkdirTemp("", "migrate-example")
	defer os.RemoveAll(dir)
	files := fstest.MapFS{
		"001_create_links.up.sql":   {Data: []byte("CREATE TABLE links (code TEXT PRIMARY KEY, url TEXT NOT NULL);")},
		"001_create_links.down.sql": {Data: []byte("DROP TABLE links;")},
		"002_add_clicks.up.sql":     {Data: []byte("ALTER TABLE links ADD COLUMN clicks INTEGER NOT NULL DEFAULT 0;")},
		"002_add_clicks.down.sql":   {Data: []byte("ALTER TABLE links DROP COLUMN clicks;")},
	}
	m, err := migrate.New(files, "sqlite://"+filepath.Join(dir, "app.db"), migrate.Options{Command: "links"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	res, err := m.Up(ctx)
	for _, r := range res.Ran {
		fmt.Println("applied", r)
	}
	res, err = m.Up(ctx)
	fmt.Println("second run changes nothing:", res.NoChange(), err)
	res, err = m.Rollback(ctx, migrate.RollbackOptions{To: 2})
	fmt.Println("rolled back to version", res.Version, err)
	// Output:
	// applied 001_create_links
	// applied 002_add_clicks
	// second run changes nothing: true <nil>
	// rolled back to version 1 <nil>
}

func ExampleList() {
	ms, err := migrate.List(fstest.MapFS{
		"001_create_links.up.sql":   {Data: []byte("CREATE TABLE links (code TEXT);")},
		"001_create_links.down.sql": {Data: []byte("DROP TABLE links;")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range ms {
		fmt.Println(m.Version, m.Name, m.Up, m.UpSHA256[:12], m.Down, m.DownSHA256[:12])
	}
	// Output:
	// 1 create_links 001_create_links.up.sql 50ce58ed6d23 001_create_links.down.sql 5c32de3c05a9
}

func ExampleList_badFiles() {
	_, err := migrate.List(fstest.MapFS{
		"001_create_links.up.sql": {Data: []byte("CREATE TABLE links (code TEXT);")},
		"002-add-clicks.sql":      {Data: []byte("ALTER TABLE links ADD clicks INT;")},
	})
	fmt.Println(err)
	// Output:
	// migrate: bad migration files (fix or remove them; every file must be named VERSION_NAME.up.sql / VERSION_NAME.down.sql, e.g. 001_create_links.up.sql):
	// 	002-add-clicks.sql: not a migration file name: want VERSION_NAME.up.sql / VERSION_NAME.down.sql, e.g. 001_create_links.up.sql
}

func ExampleCreate() {
	dir, _ := os.MkdirTemp("", "migrate-create")
	defer os.RemoveAll(dir)
	up, down, err := migrate.Create(dir, "add clicks", time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC))
	fmt.Println(filepath.Base(up), filepath.Base(down), err)
	// Output:
	// 20250102150405_add_clicks.up.sql 20250102150405_add_clicks.down.sql <nil>
}

func ExampleStatus_WriteTable() {
	st := migrate.Status{Version: 1, Latest: 2, Migrations: []migrate.MigrationStatus{
		{Version: 1, Name: "create_links", State: migrate.Applied, AppliedAt: time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC)},
		{Version: 2, Name: "add_clicks", State: migrate.Pending},
	}}
	st.WriteTable(os.Stdout)
	// Output:
	// VERSION  NAME          STATE    APPLIED AT
	// 1        create_links  applied  2025-01-02 15:04:05 UTC
	// 2        add_clicks    pending
	// database version: 1 (clean), binary's latest: 2, pending: 1
}

func ExampleOpenDB() {
	dir, _ := os.MkdirTemp("", "migrate-opendb")
	defer os.RemoveAll(dir)
	db, err := migrate.OpenDB(context.Background(), "sqlite://"+filepath.Join(dir, "app.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT 1 + 1").Scan(&n)
	fmt.Println(n, err)
	// Output:
	// 2 <nil>
}

// A downgrade to a release whose newest migration is 1, run with the newer
// binary, which has the down files.
func ExampleMigrator_RollbackAfter() {
	dir, _ := os.MkdirTemp("", "migrate-example")
	defer os.RemoveAll(dir)
	files := fstest.MapFS{
		"001_create_links.up.sql":   {Data: []byte("CREATE TABLE links (code TEXT PRIMARY KEY);")},
		"001_create_links.down.sql": {Data: []byte("DROP TABLE links;")},
		"002_add_url.up.sql":        {Data: []byte("ALTER TABLE links ADD COLUMN url TEXT;")},
		"002_add_url.down.sql":      {Data: []byte("ALTER TABLE links DROP COLUMN url;")},
		"003_add_clicks.up.sql":     {Data: []byte("ALTER TABLE links ADD COLUMN clicks INTEGER;")},
		"003_add_clicks.down.sql":   {Data: []byte("ALTER TABLE links DROP COLUMN clicks;")},
	}
	m, _ := migrate.New(files, "sqlite://"+filepath.Join(dir, "app.db"), migrate.Options{})
	ctx := context.Background()
	m.Up(ctx)
	res, err := m.RollbackAfter(ctx, 1)
	for _, r := range res.Ran {
		fmt.Println("reverted", r)
	}
	fmt.Println("database at", res.Version, "binary's latest", m.Latest(), err)
	// Output:
	// reverted 003_add_clicks
	// reverted 002_add_url
	// database at 1 binary's latest 3 <nil>
}

// On SQLite and PostgreSQL a failing file is rolled back together with its
// record: the database stays clean, and running again once the file is
// fixed applies it.
func ExampleFailedError() {
	dir, _ := os.MkdirTemp("", "migrate-example")
	defer os.RemoveAll(dir)
	files := fstest.MapFS{
		"001_create_links.up.sql": {Data: []byte("CREATE TABLE links (code TEXT PRIMARY KEY);")},
		"002_seed.up.sql":         {Data: []byte("INSERT INTO links (code) VALUES ('a');\nINSERT INTO nope VALUES (1);")},
	}
	m, _ := migrate.New(files, "sqlite://"+filepath.Join(dir, "app.db"), migrate.Options{Command: "links"})
	_, err := m.Up(context.Background())
	fmt.Println(err)
	st, _ := m.Status(context.Background())
	fmt.Println("version", st.Version, "dirty", st.Dirty)
	// Output:
	// migrate: 002_seed.up.sql failed: SQL logic error: no such table: nope (1)
	// SQLite rolled 002_seed.up.sql back with its record: nothing from it is applied, and the database is still at version 1, clean. Fix 002_seed.up.sql and run
	// 	links migrate
	// version 1 dirty false
}
