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
// MySQL commits each DDL statement as it runs, so a file cannot commit
// together with its record: relkit marks the version dirty while the file
// runs, as golang-migrate does. A file that fails part-way leaves the
// statements before the failing one applied, and the error says so and
// gives both ways out. A dirty version found at the start of a run (the
// process was killed, or another tool left it) may have none, some or all
// of its statements applied: the error lists them and the command for each
// case. The lock is golang-migrate's GET_LOCK, with its timeout set to
// what is left of Options.LockTimeout. A refused connection, or a server
// out of connections, is tried again within the lock timeout.
package mysql
