package gotool

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
)

// VersionVar is the package variable that relkit build sets with -X to
// inject the release version.
const VersionVar = "github.com/relkit/relkit/release.version"

// Toolchain runs the go command. Its zero value runs "go" from PATH in the
// current directory with an empty environment; set Env to the caller's
// environment.
type Toolchain struct {
	// Go is the go command to run. Default "go" (looked up in Env's PATH).
	Go string
	// Dir is the working directory for the go command. Default: the
	// process's working directory.
	Dir string
	// Env is the complete environment of the go command. Default: empty.
	Env map[string]string
	// Stderr receives the go command's diagnostics (compile errors).
	// Default: discarded, and the error returned carries the output.
	Stderr io.Writer
}

// Package is what relkit needs to know about the main package to release.
type Package struct {
	// ImportPath is the package's import path.
	ImportPath string
	// Dir is the package's directory.
	Dir string
	// Name is the package name; "main" for a command.
	Name string
	// ModulePath and ModuleDir identify the main module containing it.
	ModulePath string
	ModuleDir  string
}

// List describes pkg, a package pattern as the go command takes it
// ("." or "./cmd/app"), which must name exactly one main package.
func (t *Toolchain) List(ctx context.Context, pkg string) (*Package, error) {
	out, err := t.output(ctx, nil, "list", "-e", "-json=ImportPath,Dir,Name,Module,Error", "--", pkg)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	var pkgs []Package
	for {
		var p struct {
			ImportPath, Dir, Name string
			Module                *struct{ Path, Dir string }
			Error                 *struct{ Err string }
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("read go list output for %s: %w", pkg, err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("package %s: %s", pkg, p.Error.Err)
		}
		if p.Module == nil {
			return nil, fmt.Errorf("package %s is not in a module: relkit builds modules only (run go mod init)", pkg)
		}
		pkgs = append(pkgs, Package{ImportPath: p.ImportPath, Dir: p.Dir, Name: p.Name, ModulePath: p.Module.Path, ModuleDir: p.Module.Dir})
	}
	switch {
	case len(pkgs) != 1:
		return nil, fmt.Errorf("%s matches %d packages; name the one main package to release", pkg, len(pkgs))
	case pkgs[0].Name != "main":
		return nil, fmt.Errorf("%s is package %s, not a command: name the main package of your app (the one calling release.Main)", pkgs[0].ImportPath, pkgs[0].Name)
	}
	return &pkgs[0], nil
}

// GoEnv returns the values of the named go environment variables
// (go env -json), e.g. GOOS, GOARCH, GOVERSION, GOMOD.
func (t *Toolchain) GoEnv(ctx context.Context, names ...string) (map[string]string, error) {
	out, err := t.output(ctx, nil, append([]string{"env", "-json"}, names...)...)
	if err != nil {
		return nil, err
	}
	vals := map[string]string{}
	if err := json.Unmarshal(out, &vals); err != nil {
		return nil, fmt.Errorf("read go env output: %w", err)
	}
	return vals, nil
}

// Build is one go build of a release binary.
type Build struct {
	// Package is the main package to build, as given to [Toolchain.List].
	Package string
	// Output is the path of the binary to write.
	Output string
	// GOOS and GOARCH select the target. Default: the toolchain's.
	GOOS, GOARCH string
	// CGO enables cgo (CGO_ENABLED=1). Default false: a static binary.
	CGO bool
	// Version, when set, is injected into [VersionVar].
	Version string
	// Strip drops the symbol table and DWARF data (-s -w). Default false.
	Strip bool
	// Tags are extra build tags (-tags). Default none.
	Tags string
}

// Args returns the go command's arguments for b.
func (b *Build) Args() []string {
	var ldflags []string
	if b.Strip {
		ldflags = append(ldflags, "-s", "-w")
	}
	if b.Version != "" {
		ldflags = append(ldflags, "-X", VersionVar+"="+b.Version)
	}
	args := []string{"build", "-trimpath", "-o", b.Output}
	if len(ldflags) > 0 {
		args = append(args, "-ldflags="+strings.Join(ldflags, " "))
	}
	if b.Tags != "" {
		args = append(args, "-tags="+b.Tags)
	}
	return append(args, "--", b.Package)
}

// Env returns the environment variables b sets on top of the toolchain's.
func (b *Build) Env() map[string]string {
	env := map[string]string{"CGO_ENABLED": "0"}
	if b.CGO {
		env["CGO_ENABLED"] = "1"
	}
	if b.GOOS != "" {
		env["GOOS"] = b.GOOS
	}
	if b.GOARCH != "" {
		env["GOARCH"] = b.GOARCH
	}
	return env
}

// Build runs go build for b.
func (t *Toolchain) Build(ctx context.Context, b Build) error {
	if _, err := t.output(ctx, b.Env(), b.Args()...); err != nil {
		return fmt.Errorf("build %s for %s/%s: %w", b.Package, b.GOOS, b.GOARCH, err)
	}
	return nil
}

func (t *Toolchain) output(ctx context.Context, extra map[string]string, args ...string) ([]byte, error) {
	goCmd := t.Go
	if goCmd == "" {
		goCmd = "go"
	}
	env := environ(t.Env, extra)
	path, err := lookPath(goCmd, t.Env["PATH"])
	if err != nil {
		return nil, ErrNoGo
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = t.Dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if t.Stderr != nil {
		cmd.Stderr = io.MultiWriter(&stderr, t.Stderr)
	}
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if t.Stderr != nil || msg == "" {
			return nil, fmt.Errorf("go %s: %w", args[0], err)
		}
		return nil, fmt.Errorf("go %s: %w\n%s", args[0], err, msg)
	}
	return out, nil
}

// environ flattens base with extra on top into KEY=VALUE pairs, sorted.
func environ(base, extra map[string]string) []string {
	m := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	env := make([]string, 0, len(m))
	for k, v := range m {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}
