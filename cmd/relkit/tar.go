package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/relkit/relkit/cmd/relkit/internal/gotool"
	"github.com/relkit/relkit/internal/manifest"
	"github.com/relkit/relkit/internal/reltar"
)

func tarCommand() *command {
	return &command{
		name:     "tar",
		synopsis: "[-o DIR] [RELEASE_DIR...]",
		summary:  "pack assembled releases as reproducible NAME-VSN-OS-ARCH.tar.gz files plus .sha256",
		long: `Each RELEASE_DIR (default: every release under _build/rel of the module in
the working directory) is verified against its release.json first. The
tarball holds exactly the files release.json lists, so PID files and logs of
a release that was run in place are left out. Unpack it with
tar -xzf FILE -C INSTALL_DIR.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *osEnv, []string) error {
			out := fs.String("o", "", "directory for the tarballs (default: each release directory's parent)")
			return func(ctx context.Context, e *osEnv, args []string) error { return runTar(ctx, e, *out, args) }
		},
	}
}

func runTar(ctx context.Context, e *osEnv, out string, dirs []string) error {
	if len(dirs) == 0 {
		found, err := defaultReleases(ctx, e)
		if err != nil {
			return err
		}
		dirs = found
	}
	for _, d := range dirs {
		dir := e.abs(d)
		m, err := releaseIn(dir)
		if err != nil {
			return err
		}
		if err := m.Verify(dir); err != nil {
			return err
		}
		dst := filepath.Dir(dir)
		if out != "" {
			dst = e.abs(out)
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return fmt.Errorf("create output directory: %w", err)
			}
		}
		file := filepath.Join(dst, reltar.Name(m.Name, m.Version, m.OS, m.Arch))
		sum, err := reltar.WriteFile(file, dir, m)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "* tarball %s\n  sha256 %s\n", e.display(file), sum)
	}
	return nil
}

// releaseIn reads the manifest of the one release assembled in dir.
func releaseIn(dir string) (*manifest.Manifest, error) {
	found, err := filepath.Glob(filepath.Join(dir, "releases", "*", manifest.FileName))
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%s holds no release (no releases/*/release.json): assemble one with relkit build", dir)
	case 1:
		return manifest.Read(found[0])
	default:
		return nil, fmt.Errorf("%s holds %d releases: relkit tar packs a directory assembled by relkit build, with one release", dir, len(found))
	}
}

// defaultReleases lists the release directories under _build/rel of the
// module in the working directory.
func defaultReleases(ctx context.Context, e *osEnv) ([]string, error) {
	tc := &gotool.Toolchain{Dir: e.dir, Env: e.env}
	genv, err := tc.GoEnv(ctx, "GOMOD")
	if err != nil {
		return nil, err
	}
	mod := genv["GOMOD"]
	if mod == "" || mod == os.DevNull {
		return nil, usagef("relkit help tar", "not in a module: name the release directories to pack")
	}
	base := filepath.Join(filepath.Dir(mod), "_build", "rel")
	found, err := filepath.Glob(filepath.Join(base, "*", "releases", "*", manifest.FileName))
	if err != nil {
		return nil, err
	}
	var dirs []string
	seen := map[string]bool{}
	for _, f := range found {
		d := filepath.Dir(filepath.Dir(filepath.Dir(f)))
		if !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no release under %s: run relkit build first, or name the release directories", e.display(base))
	}
	return dirs, nil
}
