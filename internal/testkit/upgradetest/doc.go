// Package upgradetest holds the end-to-end tests of upgrade, downgrade and
// releases: real release builds made by `relkit build -tar` (of
// examples/hello as 1.0.0 and 2.0.0, each in its own clean output
// directory, and of the apps in testdata: a hello 2.0.0 that crashes at
// boot, a counter that hands its state over), installed with tar into a
// fresh root and run as an operator runs them: `bin/hello start` in the
// foreground (or under unshare as PID 1), `bin/hello upgrade 2.0.0` from a
// second process, load from loopback clients.
//
// It has no code of its own besides the tests.
package upgradetest
