//go:build !linux

package release

import "syscall"

func becomeSubreaper() {}

func dupTo(from, to int) { syscall.Dup2(from, to) }
