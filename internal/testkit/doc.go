// Package testkit is relkit's test and benchmark infrastructure, kept apart
// from the product: nothing outside a _test.go file or this folder imports
// it. The package itself holds the helpers tests across relkit share; its
// sub-packages are
//
//   - testdb: a fresh database per test on PostgreSQL, MariaDB and SQLite;
//   - loadgen: the bounded HTTP load the upgrade tests and benchmarks send;
//   - upgradetest: end-to-end tests of real `relkit build` releases
//     (upgrade, downgrade, daemon, environment files, load);
//   - bench: the side-by-side benchmark scripts and their programs.
package testkit
