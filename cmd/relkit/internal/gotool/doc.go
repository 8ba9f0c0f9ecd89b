// Package gotool runs the go command for relkit: it locates the package to
// release, builds it reproducibly for one target, reads the build
// information stamped into the result, and asks a built relkit app about
// itself.
//
// Nothing here reads the process environment: a [Toolchain] carries the
// environment the go command and the built binary run with.
package gotool
