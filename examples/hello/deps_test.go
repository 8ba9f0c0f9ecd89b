package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencyBudget keeps the smallest release small: an app that uses
// no database must not link a database driver or the migration engine, and
// every non-standard package it links is listed here on purpose.
func TestDependencyBudget(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list is not available here: %v", err)
	}
	allowed := []string{
		"github.com/relkit/relkit/examples/hello",
		"github.com/relkit/relkit/release",
		"github.com/relkit/relkit/runtimeconfig",
		"github.com/relkit/relkit/server",
		"github.com/relkit/relkit/server/assets", // digested static files: standard library only
		"github.com/relkit/relkit/internal/",
		"github.com/caarlos0/env/v10",
		"github.com/lmittmann/tint",
		"golang.org/x/sys/unix",
		// whether a log's output is a terminal (text and colours, no
		// batching): an ioctl per platform, not a character device
		// (/dev/null is one).
		"github.com/mattn/go-isatty",
		// upgrade verifies tarball signatures (App.TrustedKeys); minisign
		// links scrypt and pbkdf2 for encrypted secret keys and
		// blake2b (with x/sys/cpu) for prehashed signatures.
		"aead.dev/minisign",
		"golang.org/x/crypto/blake2b",
		"golang.org/x/crypto/scrypt",
		"golang.org/x/crypto/pbkdf2",
		"golang.org/x/sys/cpu",
		// switch orders versions as semantic versioning does (one
		// file, standard library only).
		"golang.org/x/mod/semver",
	}
	forbidden := []string{"database/sql", "github.com/golang-migrate/", "github.com/jackc/", "github.com/lib/pq", "github.com/go-sql-driver/", "modernc.org/"}
	for _, pkg := range strings.Fields(string(out)) {
		if !slices.ContainsFunc(allowed, func(a string) bool { return pkg == a || strings.HasSuffix(a, "/") && strings.HasPrefix(pkg, a) }) {
			t.Errorf("examples/hello links %s, which is not in its dependency budget; if it is needed, add it to the list in deps_test.go and say why in the commit", pkg)
		}
	}
	all, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range strings.Fields(string(all)) {
		for _, f := range forbidden {
			if pkg == f || strings.HasPrefix(pkg, f) {
				t.Errorf("examples/hello links %s: an app without a database must not link database code", pkg)
			}
		}
	}
}

// TestMainIsSmall keeps the promise the README makes: a release's whole
// main.go fits in 30 lines; the app's own code lives in files of its own.
func TestMainIsSmall(t *testing.T) {
	b, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n > 30 {
		t.Fatalf("examples/hello/main.go has %d lines; keep it to 30 and move app code into files named for what they hold", n)
	}
}
