// Package postgres adds PostgreSQL to package migrate: a blank import
// registers the URL schemes postgres://, postgresql:// and ecto:// (as in
// a Phoenix DATABASE_URL).
//
//	import _ "github.com/relkit/relkit/migrate/postgres"
//
//	DATABASE_URL=postgres://user:pass@db.internal:5432/shop?sslmode=require
//
// The URL is lib/pq's: libpq parameters (sslmode, connect_timeout,
// search_path via options, ...) pass through, and lib/pq reads libpq's PG*
// environment variables (PGPASSWORD, PGSSLMODE, ...) for what the URL
// leaves out. The one golang-migrate parameter relkit honours is
// x-multi-statement=true (run a file statement by statement; a failed or
// interrupted file is then not rolled back as a whole, and leaves the
// database dirty); other x- parameters are refused.
//
// A migration file is sent together with relkit's record of it (checksum,
// clean version) as one query, which PostgreSQL runs as one transaction and
// commits when it is done, even if the client died meanwhile: a run killed
// at any moment leaves the file applied and recorded, or neither. A file
// wrapped in a plain BEGIN; ... COMMIT; has the wrapper folded into that
// transaction. A file with other transaction control (a COMMIT in the
// middle, BEGIN ISOLATION LEVEL ...) and one PostgreSQL refuses to run in a
// transaction (CREATE INDEX CONCURRENTLY, VACUUM) run on their own, marked
// dirty meanwhile, as golang-migrate runs every file, with a warning in
// the log. A refused connection, or a server still starting up, is tried
// again within the lock timeout.
//
// Migrations live in the URL's database and current schema, in
// golang-migrate's schema_migrations and relkit's relkit_migrations. The
// lock is golang-migrate's advisory lock, taken with the server's
// lock_timeout set to what is left of Options.LockTimeout.
//
// # Why lib/pq and not pgx
//
// The driver was chosen by measuring a tiny program that opens a database
// through golang-migrate's driver for each (Go 1.26.8, linux/amd64,
// golang-migrate v4.20.1, -trimpath):
//
//	                                      binary      stripped   modules
//	no driver (golang-migrate database)    3,276,966   2,212,002   1
//	lib/pq v1.12.3 + database/postgres     8,613,865   5,947,657   2
//	pgx v5.12.0 + database/pgx/v5         13,976,672   9,683,209   8
//
// lib/pq adds 5.3 MB and one module (itself); pgx adds 10.7 MB and seven
// (pgx, pgpassfile, pgservicefile, puddle, pgerrcode, x/sync, x/text). And
// golang-migrate's lib/pq driver can be bound to a connection relkit already
// holds (WithConnection): relkit takes the lock with a timeout first, so
// the driver's own pg_advisory_lock, which waits forever, returns at once.
// The pgx driver only takes a pool (WithInstance) and would block on
// another connection. An application that prefers pgx for its own queries
// can still use it beside this package.
package postgres
