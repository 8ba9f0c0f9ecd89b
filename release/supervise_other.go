//go:build !linux

package release

import "syscall"

// dupTo makes descriptor to a duplicate of from.
func dupTo(from, to int) { syscall.Dup2(from, to) }
