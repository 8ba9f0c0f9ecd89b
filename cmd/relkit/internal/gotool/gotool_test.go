package gotool

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestBuildArgsAndEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		b        Build
		wantArgs string
		wantEnv  map[string]string
	}{
		{"plain", Build{Package: "./cmd/app", Output: "/tmp/app"},
			"build -trimpath -o /tmp/app -- ./cmd/app", map[string]string{"CGO_ENABLED": "0"}},
		{"release", Build{Package: ".", Output: "out", GOOS: "linux", GOARCH: "arm64", Version: "1.2.0", Strip: true, Tags: "netgo"},
			"build -trimpath -o out -ldflags=-s -w -X github.com/relkit/relkit/release.version=1.2.0 -tags=netgo -- .",
			map[string]string{"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": "arm64"}},
		{"cgo", Build{Package: ".", Output: "out", CGO: true}, "build -trimpath -o out -- .", map[string]string{"CGO_ENABLED": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := strings.Join(tt.b.Args(), " "); got != tt.wantArgs {
				t.Errorf("args:\nwant %s\ngot  %s", tt.wantArgs, got)
			}
			got := tt.b.Env()
			if len(got) != len(tt.wantEnv) {
				t.Errorf("env: want %v, got %v", tt.wantEnv, got)
			}
			for k, v := range tt.wantEnv {
				if got[k] != v {
					t.Errorf("env %s: want %q, got %q", k, v, got[k])
				}
			}
		})
	}
}

func TestEnviron(t *testing.T) {
	t.Parallel()
	got := environ(map[string]string{"B": "1", "A": "x"}, map[string]string{"B": "2"})
	if want := "A=x B=2"; strings.Join(got, " ") != want {
		t.Fatalf("environ: want %s, got %v", want, got)
	}
}

func TestLookPathUsesTheGivenPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notexec"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := lookPath("go", "/nonexistent:"+dir); err != nil || p != filepath.Join(dir, "go") {
		t.Errorf("lookPath go: want %s, got %q (%v)", filepath.Join(dir, "go"), p, err)
	}
	if _, err := lookPath("notexec", dir); err == nil {
		t.Error("lookPath of a non-executable file: want an error")
	}
	tc := &Toolchain{Env: map[string]string{"PATH": t.TempDir()}}
	if _, err := tc.GoEnv(context.Background(), "GOOS"); !errors.Is(err, ErrNoGo) {
		t.Errorf("no go on PATH: want ErrNoGo, got %v", err)
	}
}

func hostEnv() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

func TestListAndGoEnv(t *testing.T) {
	t.Parallel()
	tc := &Toolchain{Dir: ".", Env: hostEnv()}
	ctx := context.Background()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
	genv, err := tc.GoEnv(ctx, "GOOS", "GOARCH")
	if err != nil {
		t.Fatal(err)
	}
	if genv["GOOS"] != runtime.GOOS || genv["GOARCH"] != runtime.GOARCH {
		t.Errorf("GoEnv: want %s/%s, got %v", runtime.GOOS, runtime.GOARCH, genv)
	}
	p, err := tc.List(ctx, "../..")
	if err != nil {
		t.Fatal(err)
	}
	if p.ImportPath != "github.com/relkit/relkit/cmd/relkit" || p.ModulePath != "github.com/relkit/relkit" || p.Name != "main" {
		t.Errorf("List ../..: want the relkit command, got %+v", p)
	}
	tests := []struct{ pkg, want string }{
		{".", "is package gotool, not a command"},
		{"../../...", "matches"},
		{"./nonexistent", "package ./nonexistent"},
	}
	for _, tt := range tests {
		if _, err := tc.List(ctx, tt.pkg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("List %s: want error containing %q, got %v", tt.pkg, tt.want, err)
		}
	}
}

func TestReadBinaryInfo(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bi, err := ReadBinaryInfo(exe)
	if err != nil {
		t.Fatal(err)
	}
	if bi.GoVersion != runtime.Version() || bi.GOOS != runtime.GOOS || bi.GOARCH != runtime.GOARCH {
		t.Errorf("ReadBinaryInfo of the test binary: want %s %s/%s, got %+v", runtime.Version(), runtime.GOOS, runtime.GOARCH, bi)
	}
	if _, err := ReadBinaryInfo("/etc/hostname"); err == nil || !strings.Contains(err.Error(), "read build information of /etc/hostname") {
		t.Errorf("ReadBinaryInfo of a text file: want an error naming it, got %v", err)
	}
}

func TestGitVCS(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	tc := &Toolchain{Env: hostEnv()}
	want, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	v := tc.GitVCS(context.Background(), ".")
	if v == nil || v.Revision != strings.TrimSpace(string(want)) || v.Time.IsZero() || v.System != "git" {
		t.Fatalf("GitVCS: want revision %s with its commit time, got %+v", want, v)
	}
	if v := tc.GitVCS(context.Background(), t.TempDir()); v != nil {
		t.Errorf("GitVCS outside a checkout: want nil, got %+v", v)
	}
}

func TestQueryAppRefusesOtherPrograms(t *testing.T) {
	t.Parallel()
	tc := &Toolchain{Env: hostEnv()}
	for _, prog := range []string{"/bin/true", "/bin/false"} {
		if _, err := os.Stat(prog); err != nil {
			continue
		}
		_, err := tc.QueryApp(context.Background(), prog)
		if !errors.Is(err, ErrNotRelkitApp) {
			t.Errorf("QueryApp %s: want ErrNotRelkitApp, got %v", prog, err)
		}
	}
}
