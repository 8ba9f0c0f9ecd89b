package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/relkit/relkit/cmd/relkit/internal/assemble"
	"github.com/relkit/relkit/cmd/relkit/internal/gen"
	"github.com/relkit/relkit/cmd/relkit/internal/gotool"
	"github.com/relkit/relkit/internal/manifest"
	"github.com/relkit/relkit/internal/reltar"
)

const buildSummary = "build the app and assemble its release under _build/rel/NAME (-tar: also the tarball)"

// buildFlags are relkit build's flags.
type buildFlags struct {
	version  string
	targets  string
	out      string
	tar      bool
	sign     string
	overlays string
	strip    bool
	tags     string
	image    bool
	caCerts  string
}

func buildCommand() *command {
	return &command{
		name:     "build",
		synopsis: "[-version V] [-target os/arch,...] [-o DIR] [-tar] [-image] [PKG]",
		summary:  buildSummary,
		long: `PKG is the app's main package (default "."). The binary is built with
-trimpath and CGO_ENABLED=0 (unless the environment sets CGO_ENABLED), the
version injected with -ldflags -X. One target gives DIR/NAME, several give
DIR/NAME-OS-ARCH each. The build time recorded in release.json, and used for
every tarball entry, is SOURCE_DATE_EPOCH when set, else the commit time of
the checkout, else the clock (then the release is not reproducible).
releases/VSN/sbom.cdx.json is a CycloneDX SBOM of the binary: every module
it links with version and go.sum hash, the Go version and build settings.

-image also writes an OCI container image of the release, without Docker
and FROM scratch: DIR/NAME-VSN.oci (an image layout directory) and
DIR/NAME-VSN.oci.tar (for docker load, podman load, skopeo copy
oci-archive:). It holds the release at /app (tmp/ and log/ writable by the
nonroot user 65534, the rest root's), the build machine's CA certificates,
Go's time zone database, ENTRYPOINT /app/bin/NAME, CMD start, the health
check and OCI annotations with the version and VCS revision; several
targets give one image index. The same commit gives the same digest.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *osEnv, []string) error {
			var f buildFlags
			fs.StringVar(&f.version, "version", "", "release version (default: the version the app declares in release.App.Version)")
			fs.StringVar(&f.targets, "target", "", "comma-separated GOOS/GOARCH targets, e.g. linux/amd64,linux/arm64 (default: the go command's GOOS/GOARCH)")
			fs.StringVar(&f.out, "o", "", "output directory (default: _build/rel in the app's module root)")
			fs.StringVar(&f.sign, "sign", "", "with -tar: sign each tarball with this minisign secret key (relkit keygen), writing TARBALL.minisig")
			fs.BoolVar(&f.tar, "tar", false, "also write NAME-VSN-OS-ARCH.tar.gz and .sha256 into the output directory")
			fs.StringVar(&f.overlays, "overlays", "", "directory copied into the release root (default: rel/overlays in the package directory, else in the module root, when present)")
			fs.BoolVar(&f.strip, "strip", true, "strip the symbol table and DWARF data (-ldflags \"-s -w\"); -strip=false keeps them for debuggers")
			fs.StringVar(&f.tags, "tags", "", "comma-separated build tags")
			fs.BoolVar(&f.image, "image", false, "also write an OCI image: NAME-VSN.oci (layout directory) and NAME-VSN.oci.tar (docker load) into the output directory")
			fs.StringVar(&f.caCerts, "ca-certs", "", "with -image: the CA certificate bundle to put into the image (default: the build machine's, e.g. /etc/ssl/certs/ca-certificates.crt)")
			return func(ctx context.Context, e *osEnv, args []string) error { return runBuild(ctx, e, f, args) }
		},
	}
}

// target is one GOOS/GOARCH pair.
type target struct{ os, arch string }

func (t target) String() string { return t.os + "/" + t.arch }

var targetRE = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9]+$`)

// parseTargets parses -target; nil means the host's.
func parseTargets(s string) ([]target, error) {
	if s == "" {
		return nil, nil
	}
	var out []target
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if !targetRE.MatchString(part) {
			return nil, usagef("go tool dist list", "-target %q: want GOOS/GOARCH, e.g. linux/arm64", part)
		}
		if seen[part] {
			continue
		}
		seen[part] = true
		osName, arch, _ := strings.Cut(part, "/")
		out = append(out, target{osName, arch})
	}
	return out, nil
}

// releaseResult is one assembled release.
type releaseResult struct {
	dir      string
	manifest *manifest.Manifest
	tarball  string
	sum      string
}

func runBuild(ctx context.Context, e *osEnv, f buildFlags, args []string) error {
	if f.sign != "" && !f.tar {
		return usagef("relkit build -tar -sign "+f.sign, "-sign signs the tarball: add -tar")
	}
	if f.version != "" {
		if err := checkVersion(f.version); err != nil {
			return usagef("relkit help build", "-version: %v", err)
		}
	}
	targets, err := parseTargets(f.targets)
	if err != nil {
		return err
	}
	p, err := openProject(ctx, e, args, "build")
	if err != nil {
		return err
	}
	p.tc.Stderr = e.stderr
	if targets == nil {
		targets = []target{{p.goos, p.goarch}}
	}
	buildTime, timeSource, err := releaseTime(e.env)
	if err != nil {
		return err
	}
	out := filepath.Join(p.pkg.ModuleDir, "_build", "rel")
	if f.out != "" {
		out = e.abs(f.out)
	}
	overlays, err := findOverlays(e, p, f.overlays)
	if err != nil {
		return err
	}
	var caBundle string
	if f.image {
		for _, t := range targets {
			if t.os != "linux" {
				return usagef("relkit help build", "-image: container images run Linux binaries, and the targets include %s: build the image for linux targets only", t)
			}
		}
		flagPath := ""
		if f.caCerts != "" {
			flagPath = e.abs(f.caCerts)
		}
		if caBundle, err = findCABundle(flagPath); err != nil {
			return err
		}
	} else if f.caCerts != "" {
		return usagef("relkit help build", "-ca-certs is for the image: add -image")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	work, err := os.MkdirTemp(out, ".relkit-build-")
	if err != nil {
		return fmt.Errorf("create build directory: %w", err)
	}
	defer os.RemoveAll(work)

	cgo := e.env["CGO_ENABLED"] == "1"
	base := gotool.Build{CGO: cgo, Version: f.version, Strip: f.strip, Tags: f.tags}
	probe, info, err := p.probe(ctx, base, work)
	if err != nil {
		return err
	}
	version := f.version
	switch {
	case version != "" && info.Version != version:
		return fmt.Errorf("%s reports version %q although relkit injected %q with -ldflags -X %s: build it with a relkit release package that honours the injected version", p.pkg.ImportPath, info.Version, version, gotool.VersionVar)
	case version == "" && (info.Version == "" || info.Version == "devel"):
		return usagef("relkit build -version 1.0.0 "+strings.Join(args, " "), "%s declares no version: pass -version, or set Version in its release.App", info.Name)
	case version == "":
		version = info.Version
		if err := checkVersion(version); err != nil {
			return fmt.Errorf("%s declares %w; set another in release.App.Version or pass -version", info.Name, err)
		}
	}

	var results []releaseResult
	for _, t := range targets {
		bin := probe
		if t.os != p.hostOS || t.arch != p.hostCPU {
			b := base
			b.Package, b.GOOS, b.GOARCH = p.pkg.Dir, t.os, t.arch
			b.Output = filepath.Join(work, t.os+"-"+t.arch, info.Name)
			fmt.Fprintf(e.stderr, "* building %s for %s\n", info.Name, t)
			if err := p.tc.Build(ctx, b); err != nil {
				return err
			}
			bin = b.Output
		}
		dir := filepath.Join(out, info.Name)
		if len(targets) > 1 {
			dir = filepath.Join(out, info.Name+"-"+t.os+"-"+t.arch)
		}
		m, err := releaseManifest(ctx, p, bin, info, version, t, buildTime, timeSource)
		if err != nil {
			return err
		}
		sbom, err := writeSBOM(bin, version, m.BuildTime, relkitFlags{strip: f.strip, version: f.version != ""})
		if err != nil {
			return err
		}
		m, err = assemble.Assemble(assemble.Options{Dir: dir, Binary: bin, Overlays: overlays, Manifest: *m,
			ReleaseFiles: map[string][]byte{manifest.SBOMFile: sbom}})
		if err != nil {
			return err
		}
		r := releaseResult{dir: dir, manifest: m}
		if f.tar {
			r.tarball = filepath.Join(out, reltar.Name(m.Name, m.Version, m.OS, m.Arch))
			if r.sum, err = reltar.WriteFile(r.tarball, dir, m); err != nil {
				return err
			}
			if f.sign != "" {
				priv, err := loadSecretKey(e, f.sign)
				if err != nil {
					return err
				}
				if err := signTarball(e, priv, r.tarball); err != nil {
					return err
				}
			}
		}
		results = append(results, r)
	}
	reportBuild(e, results)
	if f.image {
		port := info.Port
		if port == 0 {
			port = gen.DefaultPort
		}
		res, ref, err := writeImage(p, out, caBundle, port, results)
		if err != nil {
			return err
		}
		dir := filepath.Join(out, imageName(results[0].manifest.Name, results[0].manifest.Version))
		fmt.Fprintf(e.stdout, "\n* image %s %s at %s (and %s.tar)\n", ref, res.Digest, e.display(dir), e.display(dir))
		for _, m := range res.Manifests {
			fmt.Fprintf(e.stdout, "  %s %s\n", m.Platform, m.Digest)
		}
		fmt.Fprintf(e.stdout, "\n    # To load it into Docker, or push it to a registry\n    docker load -i %s.tar\n    skopeo copy oci:%s:%s docker://REGISTRY/%s\n",
			e.display(dir), e.display(dir), strings.TrimPrefix(ref, strings.SplitN(ref, ":", 2)[0]+":"), ref)
	}
	if timeSource == manifest.BuildTimeFromClock {
		fmt.Fprintf(e.stderr, "note: the build time comes from the clock, so this release is not reproducible; set SOURCE_DATE_EPOCH (e.g. to `git log -1 --format=%%ct`) or build from a git checkout\n")
	}
	return nil
}

// releaseManifest describes the release of bin for t.
func releaseManifest(ctx context.Context, p *project, bin string, info *gotool.AppInfo, version string, t target, buildTime time.Time, source string) (*manifest.Manifest, error) {
	bi, err := gotool.ReadBinaryInfo(bin)
	if err != nil {
		return nil, err
	}
	if bi.GOOS != t.os || bi.GOARCH != t.arch {
		return nil, fmt.Errorf("the binary built for %s reports %s/%s: is GOFLAGS overriding the target?", t, bi.GOOS, bi.GOARCH)
	}
	vcs := bi.VCS
	if vcs == nil {
		vcs = p.tc.GitVCS(ctx, p.pkg.Dir)
	}
	if source == "" {
		source = manifest.BuildTimeFromClock
		buildTime = time.Now()
		if vcs != nil && !vcs.Time.IsZero() {
			source, buildTime = manifest.BuildTimeFromVCS, vcs.Time
		}
	}
	return &manifest.Manifest{
		Schema: manifest.Schema, Name: info.Name, Version: version, OS: t.os, Arch: t.arch,
		GoVersion: bi.GoVersion, CGO: bi.CGO, VCS: vcs,
		BuildTime: buildTime.UTC().Truncate(time.Second), BuildTimeSource: source,
		Migrations: info.Migrations,
	}, nil
}

// releaseTime returns SOURCE_DATE_EPOCH when set; otherwise a zero time
// and no source, and the caller takes the commit time or the clock.
func releaseTime(env map[string]string) (time.Time, string, error) {
	v, ok := env["SOURCE_DATE_EPOCH"]
	if !ok || v == "" {
		return time.Time{}, "", nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, "", fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a Unix time in seconds: set it to e.g. $(git log -1 --format=%%ct), or unset it", v)
	}
	return time.Unix(sec, 0).UTC(), manifest.BuildTimeFromEnv, nil
}

// findOverlays returns the overlays directory, "" when there is none.
func findOverlays(e *osEnv, p *project, flagValue string) (string, error) {
	if flagValue != "" {
		dir := e.abs(flagValue)
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return "", usagef("relkit help build", "-overlays %s: not a directory", flagValue)
		}
		return dir, nil
	}
	for _, dir := range []string{filepath.Join(p.pkg.Dir, "rel", "overlays"), filepath.Join(p.pkg.ModuleDir, "rel", "overlays")} {
		info, err := os.Stat(dir)
		if err == nil && info.IsDir() {
			return dir, nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("overlays: %w", err)
		}
	}
	return "", nil
}

func reportBuild(e *osEnv, results []releaseResult) {
	w := e.stdout
	for _, r := range results {
		m := r.manifest
		fmt.Fprintf(w, "* assembled %s %s for %s at %s (%d files, %d migration files)\n", m.Name, m.Version, m.Target(), e.display(r.dir), len(m.Files), len(m.Migrations))
		if f, ok := m.SBOM(); ok {
			fmt.Fprintf(w, "* sbom %s (CycloneDX %s)\n", e.display(filepath.Join(r.dir, filepath.FromSlash(f.Path))), sbomSpec)
		}
		if r.tarball != "" {
			fmt.Fprintf(w, "* tarball %s\n  sha256 %s\n", e.display(r.tarball), r.sum)
		}
	}
	if len(results) == 1 {
		r := results[0]
		fmt.Fprintf(w, "\nRelease created at %s\n\n    # To start your system (SERVER=true runs the HTTP server)\n    %s start\n",
			e.display(r.dir), filepath.Join(e.display(r.dir), "bin", r.manifest.Name))
		if r.tarball != "" {
			fmt.Fprintf(w, "\n    # To install it elsewhere\n    mkdir -p /opt/%s && tar -xzf %s -C /opt/%s\n", r.manifest.Name, filepath.Base(r.tarball), r.manifest.Name)
		}
	}
}
