//go:build v2 && !notready

package main

func readiness() error { return nil }
