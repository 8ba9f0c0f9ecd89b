//go:build format2

package main

// format is the version of the state format this build writes.
const format = 2
