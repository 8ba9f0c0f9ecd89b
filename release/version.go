package release

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/manifest"
)

// version is set at build time by relkit build:
//
//	go build -ldflags "-X github.com/relkit/relkit/release.version=1.2.0"
var version string

const versionSummary = "print the name and version (-v: VCS revision, Go version, OS/arch, signature policy, SBOM)"

// resolveVersion picks the release version: the one injected at build time,
// else the App's, else the main module's, else "devel".
func resolveVersion(appVersion string) string {
	if version != "" {
		return version
	}
	if appVersion != "" {
		return appVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// versionCommand prints the name and version.
type versionCommand struct {
	verbose bool
}

func (c *versionCommand) run(_ context.Context, r *runner, args []string) error {
	fs := r.flags("version", "[-v]", versionSummary)
	fs.BoolVar(&c.verbose, "v", false, "also print the VCS revision, Go version and OS/arch")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "%s %s\n", r.app.name, r.app.version)
	if !c.verbose {
		return nil
	}
	revision, modified, built := "unknown", "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified)"
				}
			case "vcs.time":
				built = s.Value
			}
		}
	}
	fmt.Fprintf(r.stdout, "revision: %s%s\n", revision, modified)
	if built != "" {
		fmt.Fprintf(r.stdout, "commit time: %s\n", built)
	}
	fmt.Fprintf(r.stdout, "go: %s\nplatform: %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(r.stdout, "signatures: %s\n", r.app.signaturePolicy())
	fmt.Fprintf(r.stdout, "sbom: %s\n", r.sbomLocation())
	return nil
}

// sbomLocation says where the SBOM of the running release is: the
// releases/VSN/sbom.cdx.json that its release.json lists, with its SHA-256.
func (r *runner) sbomLocation() string {
	p, err := r.settings.Paths()
	if err != nil || !p.Assembled {
		return "none (not an assembled release: relkit build writes one into releases/VSN/" + manifest.SBOMFile + ")"
	}
	exe, err := filepath.EvalSymlinks(r.exe)
	if err != nil {
		exe = r.exe
	}
	dir := filepath.Dir(exe) // ROOT/releases/VSN
	m, err := manifest.Read(filepath.Join(dir, manifest.FileName))
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	f, ok := m.SBOM()
	if !ok {
		return "none (release " + m.Version + " was built by a relkit that wrote no SBOM)"
	}
	return fmt.Sprintf("%s (CycloneDX JSON, sha256 %s)", filepath.Join(dir, manifest.SBOMFile), f.SHA256)
}

// signaturePolicy says which tarballs upgrade accepts: signed by one of
// the trusted key IDs, or any with a matching .sha256.
func (a *app) signaturePolicy() string {
	ids, err := a.trustedKeyIDs()
	switch {
	case err != nil:
		return err.Error()
	case len(ids) == 0:
		return "releases are not signature-checked (no release.App.TrustedKeys)"
	}
	return "upgrade accepts only tarballs signed by key " + strings.Join(ids, ", ")
}

// trustedKeyIDs returns the IDs of the keys whose signatures upgrade and
// unpack accept, in minisign's hexadecimal form; none when releases are
// not signature-checked.
func (a *app) trustedKeyIDs() ([]string, error) {
	keys, err := install.ParseTrustedKeys(a.trustedKeys)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = fmt.Sprintf("%016X", k.ID())
	}
	return ids, nil
}
