// Package mysql adds MySQL and MariaDB to package migrate: a blank import
// registers the URL scheme mysql://, through go-sql-driver/mysql.
//
//	import _ "github.com/relkit/relkit/migrate/mysql"
//
// Both URL forms in use are accepted:
//
//	mysql://user:pass@db.internal:3306/shop?tls=true        (Ecto, Rails)
//	mysql://user:pass@tcp(db.internal:3306)/shop?tls=true   (golang-migrate)
//
// Query parameters are go-sql-driver's. parseTime defaults to true, so
// DATETIME columns scan into time.Time; set parseTime=false to turn it off.
// golang-migrate's x- parameters are refused. A migration file runs as one
// multi-statement query on a connection of its own.
//
// MySQL commits each DDL statement as it runs: a file that fails part-way
// leaves the statements before the failing one applied, and the dirty
// error says so and gives both ways out. The lock is golang-migrate's
// GET_LOCK, with its timeout set to what is left of Options.LockTimeout.
package mysql
