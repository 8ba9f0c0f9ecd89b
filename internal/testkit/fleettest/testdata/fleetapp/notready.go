//go:build v2 && notready

package main

import "errors"

// readiness fails: this build never becomes ready.
func readiness() error { return errors.New("notready build: never ready") }
