// Package relspec holds the rules every part of relkit agrees on: what may
// name a release and a version, what a release tarball and a migration
// file are called, and the names of the environment variables that pass
// between relkit's processes. The build tool (cmd/relkit), the installer
// (internal/install), the supervisor, package migrate and the release's
// command line all take them from here, so that a name one of them accepts
// the others accept too.
//
// The checks are written by hand rather than with regexp: every release
// binary links this package, and regexp would add to each.
package relspec
