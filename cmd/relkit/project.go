package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/relkit/relkit/cmd/relkit/internal/gotool"
	"github.com/relkit/relkit/internal/relspec"
)

// project is the app being released: its main package, the toolchain that
// builds it, the build machine (host) and the go command's default target.
type project struct {
	tc        *gotool.Toolchain
	pkg       *gotool.Package
	pkgArg    string // the package as given on the command line
	hostOS    string // GOHOSTOS: what the probe is built for, to run here
	hostCPU   string // GOHOSTARCH
	goos      string // GOOS: the default target (the environment may set it)
	goarch    string // GOARCH
	goVersion string // e.g. "go1.24.2"
	goroot    string // GOROOT
}

// openProject locates pkgArg (default ".") for e's working directory.
func openProject(ctx context.Context, e *osEnv, args []string, cmd string) (*project, error) {
	pkgArg := "."
	switch len(args) {
	case 0:
	case 1:
		pkgArg = args[0]
	default:
		return nil, usagef("relkit help "+cmd, "%s takes one package, got %q", cmd, strings.Join(args, " "))
	}
	tc := &gotool.Toolchain{Dir: e.dir, Env: e.env}
	pkg, err := tc.List(ctx, pkgArg)
	if err != nil {
		return nil, err
	}
	genv, err := tc.GoEnv(ctx, "GOOS", "GOARCH", "GOHOSTOS", "GOHOSTARCH", "GOVERSION", "GOROOT")
	if err != nil {
		return nil, err
	}
	return &project{tc: tc, pkg: pkg, pkgArg: pkgArg, hostOS: genv["GOHOSTOS"], hostCPU: genv["GOHOSTARCH"],
		goos: genv["GOOS"], goarch: genv["GOARCH"], goVersion: genv["GOVERSION"], goroot: genv["GOROOT"]}, nil
}

// probe builds a binary of the app for the build machine (GOHOSTOS and
// GOHOSTARCH, whatever GOOS and GOARCH say) into dir and asks it about
// itself.
func (p *project) probe(ctx context.Context, b gotool.Build, dir string) (string, *gotool.AppInfo, error) {
	b.Package = p.pkg.Dir
	b.Output = filepath.Join(dir, "probe", "app")
	if err := os.MkdirAll(filepath.Dir(b.Output), 0o755); err != nil {
		return "", nil, err
	}
	b.GOOS, b.GOARCH = p.hostOS, p.hostCPU
	if err := p.tc.Build(ctx, b); err != nil {
		return "", nil, err
	}
	info, err := p.tc.QueryApp(ctx, b.Output)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", p.pkg.ImportPath, err)
	}
	if err := checkName(info.Name); err != nil {
		return "", nil, err
	}
	return b.Output, info, nil
}

// checkName accepts release names usable as a file, unit and binary name.
func checkName(name string) error {
	if relspec.CheckName(name) != nil {
		return fmt.Errorf("release name %q cannot name a binary and a systemd unit: use letters, digits, '-', '_' and '.' (at most %d, starting with a letter or digit, not ending with '.') in release.App.Name", name, relspec.MaxNameLen)
	}
	return nil
}

// checkVersion accepts versions usable as a directory name.
func checkVersion(v string) error {
	if relspec.CheckVersion(v) != nil {
		return fmt.Errorf("version %q cannot name the release directory releases/VSN: use letters, digits, '.', '-', '_' and '+' (at most %d, starting with a letter or digit), e.g. 1.2.0", v, relspec.MaxVersionLen)
	}
	return nil
}

// display shows p relative to the working directory when it is inside it.
func (e *osEnv) display(p string) string {
	if rel, err := filepath.Rel(e.dir, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

// abs resolves a path given on the command line against the working
// directory.
func (e *osEnv) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(e.dir, p)
}
