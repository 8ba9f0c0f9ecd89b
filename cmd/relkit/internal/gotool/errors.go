package gotool

import "errors"

// ErrNotRelkitApp is returned by [Toolchain.QueryApp] when the binary does
// not answer relkit's info command: it is not built with release.Main, or
// with a relkit too old to have the command.
var ErrNotRelkitApp = errors.New("not a relkit app: the package must call release.Main from github.com/relkit/relkit/release (a relkit version with the relkit-info command)")

// ErrNoGo is returned when the go command cannot be found.
var ErrNoGo = errors.New("go command not found: install Go or put it on PATH")
