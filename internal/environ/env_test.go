package environ_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/internal/environ"
)

// release makes ROOT/releases/VSN/NAME (an empty file standing for the
// binary) with the env file content (none when ""), and returns the
// binary's path.
func release(t *testing.T, root, vsn, env string) string {
	t.Helper()
	dir := filepath.Join(root, "releases", vsn)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "app")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if env != "" {
		if err := os.WriteFile(filepath.Join(dir, "env"), []byte(env), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

func TestLoadLayers(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	bin := release(t, root, "1.0.0", "LOG_LEVEL=debug\nPORT=5000\nFROM_FILE=x\n")
	proc := map[string]string{"PORT": "4000", "PATH": "/bin"}
	e := environ.Load(proc, bin, root)
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"PORT": "4000", "PATH": "/bin", "LOG_LEVEL": "debug", "FROM_FILE": "x"}
	if got := e.Map(); !maps.Equal(want, got) {
		t.Errorf("Map: want %v (the process environment wins), got %v", want, got)
	}
	if got := e.ForChild(); !maps.Equal(proc, got) {
		t.Errorf("ForChild: want the process environment only, %v, got %v", proc, got)
	}
	if want, got := map[string]string{"LOG_LEVEL": "debug", "FROM_FILE": "x"}, e.Unapplied(); !maps.Equal(want, got) {
		t.Errorf("Unapplied: want the file's variables the process lacks, %v, got %v", want, got)
	}
	if !e.FromFile("LOG_LEVEL") || e.FromFile("PORT") || e.FromFile("PATH") {
		t.Errorf("FromFile: want LOG_LEVEL only")
	}
	if want, got := filepath.Join(root, "releases", "1.0.0", "env"), e.File(); want != got {
		t.Errorf("File: want %s, got %s", want, got)
	}
	// A child given ForChild plus its own release's file sees that file.
	bin2 := release(t, root, "2.0.0", "LOG_LEVEL=error\n")
	child := environ.ForRelease(e.ForChild(), bin2, root)
	if want := map[string]string{"PORT": "4000", "PATH": "/bin", "LOG_LEVEL": "error"}; !maps.Equal(want, child) {
		t.Errorf("ForRelease of 2.0.0: want %v, got %v", want, child)
	}
	// The child, loading its own file over that environment, has nothing
	// left to apply.
	if got := environ.Load(child, bin2, root).Unapplied(); len(got) != 0 {
		t.Errorf("Unapplied in a process started with ForRelease: want none, got %v", got)
	}
}

func TestLoadWithoutFile(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	proc := map[string]string{"A": "1"}
	for name, exe := range map[string]string{
		"release without env file": release(t, root, "1.0.0", ""),
		"development build":        filepath.Join(root, "app"),
	} {
		e := environ.Load(proc, exe, root)
		if e.Err() != nil || e.File() != "" || !maps.Equal(proc, e.Map()) || e.Unapplied() != nil {
			t.Errorf("%s: want the process environment alone, got %v (file %q, err %v)", name, e.Map(), e.File(), e.Err())
		}
	}
}

func TestLoadEnvFileVariable(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	bin := release(t, root, "1.0.0", "A=from-release\n")
	if err := os.WriteFile(filepath.Join(root, "shared.env"), []byte("A=shared\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := environ.Load(map[string]string{"RELEASE_ENV_FILE": "shared.env"}, bin, "/")
	if e.Err() != nil || e.Get("A") != "shared" {
		t.Errorf("RELEASE_ENV_FILE relative to the root: want A=shared, got %q (%v)", e.Get("A"), e.Err())
	}
	e = environ.Load(map[string]string{"RELEASE_ENV_FILE": "missing.env"}, bin, "/")
	var pe *environ.Error
	if !errors.As(e.Err(), &pe) || !strings.Contains(e.Err().Error(), "does not exist; create it or unset RELEASE_ENV_FILE") {
		t.Errorf("a missing RELEASE_ENV_FILE: want an error naming the fix, got %v", e.Err())
	}
	if e.Get("A") != "" {
		t.Errorf("a failed file must not be applied")
	}
}

func TestLoadRefusesReservedAndBadLines(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	bin := release(t, root, "1.0.0", "RELEASE_TMP=/tmp/x\nRELKIT_GENERATION=3\nNOTIFY_SOCKET=/x\nTOKEN=s3cret\nbad line\n")
	e := environ.Load(map[string]string{}, bin, root)
	err := e.Err()
	if err == nil {
		t.Fatal("want an error")
	}
	if !strings.Contains(err.Error(), "line 5: want KEY=VALUE") {
		t.Errorf("want the bad line named, got %v", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows a value: %v", err)
	}
	if e.Get("TOKEN") != "" {
		t.Errorf("a file with problems must not be applied")
	}
	bin2 := release(t, root, "2.0.0", "RELEASE_TMP=/tmp/x\nRELKIT_GENERATION=3\n")
	err = environ.Load(map[string]string{}, bin2, root).Err()
	for _, want := range []string{"(RELEASE_TMP): where the running system keeps", "(RELKIT_GENERATION): set by the process manager"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	// ForRelease passes a bad file over: the process reports it itself.
	if got := environ.ForRelease(map[string]string{"A": "1"}, bin, root); !maps.Equal(map[string]string{"A": "1"}, got) {
		t.Errorf("ForRelease with a bad file: want the process environment, got %v", got)
	}
}
