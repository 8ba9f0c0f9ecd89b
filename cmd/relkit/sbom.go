package main

// The SBOM relkit build writes into every release, releases/VSN/sbom.cdx.json.
//
// Format: CycloneDX 1.6 JSON, written with github.com/CycloneDX/cyclonedx-go,
// rather than SPDX 2.3. Three reasons. CycloneDX has a Go-module vocabulary
// already in use (purl pkg:golang/..., the cdx:gomod property taxonomy of
// cyclonedx-gomod, which this file follows), so a Go binary's build info maps
// onto it without invention. Its metadata timestamp and serial number are
// optional, so the document can be a pure function of the binary and the
// recorded build time (SPDX 2.3 requires a creation time and a unique
// documentNamespace, which reproducible builds must then fake). And
// cyclonedx-go imports only the standard library, while spdx/tools-golang
// brings its own dependencies into relkit's go.mod. The library is linked
// into cmd/relkit only; apps never import it.
//
// What goes in, all from the binary's build info (debug/buildinfo, which
// reads binaries of any target):
//   - metadata.component: the app (main module path, release version, the
//     binary's name and main package), with
//     the Go version, GOOS/GOARCH, CGO_ENABLED, compiler, VCS revision/time/
//     modified and tags as cdx:gomod:build:* properties, every build setting
//     verbatim as relkit:build:setting:KEY, relkit's own -strip and
//     -version flags (relkit:build:strip, relkit:build:version-injected:
//     with -trimpath, build info leaves -ldflags out), and the binary's
//     SHA-256;
//   - components: every dependency module (a replacement when the build
//     used one) with its version, purl, and go.sum hash (the h1: dirhash,
//     a SHA-256, in hex as cyclonedx-gomod records it), plus "std", the Go
//     standard library at the Go version;
//   - dependencies: the app depends on every module (build info records the
//     module list, not the graph).
//
// metadata.timestamp is the release's recorded build time and serialNumber
// is derived from the binary's SHA-256, so a reproducible build gives the
// same bytes.

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// sbomSpec is the CycloneDX version relkit writes.
const sbomSpec = cdx.SpecVersion1_6

// relkitFlags are the relkit build flags that shaped the binary and that
// its build info does not record (with -trimpath the go command leaves
// -ldflags out). They go into the SBOM as relkit:build:* properties, so
// relkit verify can rebuild with them.
type relkitFlags struct {
	strip   bool // -strip: -ldflags "-s -w"
	version bool // -version: injected with -ldflags -X
}

// writeSBOM returns the CycloneDX JSON SBOM of the binary at bin, released
// as version at buildTime.
func writeSBOM(bin, version string, buildTime time.Time, flags relkitFlags) ([]byte, error) {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("sbom: read build information of %s: %w", bin, err)
	}
	sum, err := fileSHA256(bin)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	bom := buildSBOM(bi, filepath.Base(bin), version, buildTime, sum, flags)
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, sbomSpec); err != nil {
		return nil, fmt.Errorf("sbom: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// buildSBOM describes bi; binSHA256 is the binary's hex SHA-256.
func buildSBOM(bi *debug.BuildInfo, name, version string, buildTime time.Time, binSHA256 string, flags relkitFlags) *cdx.BOM {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	props := []cdx.Property{
		{Name: "cdx:gomod:binary:hash:SHA-256", Value: binSHA256},
		{Name: "cdx:gomod:binary:name", Value: name},
		{Name: "relkit:main:package", Value: bi.Path},
		{Name: "relkit:build:strip", Value: strconv.FormatBool(flags.strip)},
		{Name: "relkit:build:version-injected", Value: strconv.FormatBool(flags.version)},
		{Name: "cdx:gomod:build:env:GOVERSION", Value: bi.GoVersion},
	}
	for key, name := range map[string]string{
		"CGO_ENABLED": "build:env:CGO_ENABLED", "GOARCH": "build:env:GOARCH", "GOOS": "build:env:GOOS",
		"-compiler": "build:compiler", "vcs": "build:vcs", "vcs.revision": "build:vcs:revision",
		"vcs.time": "build:vcs:time", "vcs.modified": "build:vcs:modified",
	} {
		if v, ok := settings[key]; ok {
			props = append(props, cdx.Property{Name: "cdx:gomod:" + name, Value: v})
		}
	}
	if tags := settings["-tags"]; tags != "" {
		for _, tag := range strings.Split(tags, ",") {
			props = append(props, cdx.Property{Name: "cdx:gomod:build:tag", Value: tag})
		}
	}
	for _, s := range bi.Settings {
		props = append(props, cdx.Property{Name: "relkit:build:setting:" + s.Key, Value: s.Value})
	}
	sort.SliceStable(props, func(i, j int) bool {
		if props[i].Name != props[j].Name {
			return props[i].Name < props[j].Name
		}
		return props[i].Value < props[j].Value
	})

	app := &cdx.Component{
		BOMRef: "app:" + bi.Main.Path, Type: cdx.ComponentTypeApplication,
		Name: bi.Main.Path, Version: version, Properties: &props,
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		app.PackageURL = purl(bi.Main.Path, v)
	}
	std := cdx.Component{
		BOMRef: purl("std", bi.GoVersion), Type: cdx.ComponentTypeLibrary, Name: "std",
		Version: bi.GoVersion, PackageURL: purl("std", bi.GoVersion), Scope: cdx.ScopeRequired,
	}
	components := []cdx.Component{std}
	refs := []string{std.BOMRef}
	for _, dep := range bi.Deps {
		c := moduleComponent(dep)
		components = append(components, c)
		refs = append(refs, c.BOMRef)
	}

	tool := cdx.Component{Type: cdx.ComponentTypeApplication, Name: "relkit", Version: toolVersion()}
	bom := cdx.NewBOM()
	bom.SerialNumber = serialNumber(binSHA256)
	bom.Metadata = &cdx.Metadata{
		Timestamp: buildTime.UTC().Format(time.RFC3339),
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{tool}},
		Component: app,
	}
	bom.Components = &components
	bom.Dependencies = &[]cdx.Dependency{{Ref: app.BOMRef, Dependencies: &refs}}
	return bom
}

// moduleComponent describes one dependency module, the replacement when
// the build used one (a local directory replacement has no version and no
// hash).
func moduleComponent(dep *debug.Module) cdx.Component {
	m := dep
	if dep.Replace != nil {
		m = dep.Replace
	}
	c := cdx.Component{Type: cdx.ComponentTypeLibrary, Name: m.Path, Version: m.Version, Scope: cdx.ScopeRequired}
	c.BOMRef = purl(m.Path, m.Version)
	if m.Version != "" && m.Version != "(devel)" {
		c.PackageURL = c.BOMRef
	}
	if h, ok := h1Hex(m.Sum); ok {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: h}}
	}
	if dep.Replace != nil {
		props := []cdx.Property{{Name: "relkit:replaces", Value: dep.Path + "@" + dep.Version}}
		c.Properties = &props
	}
	return c
}

// purl is the package URL of Go module path at version.
func purl(path, version string) string {
	if version == "" || version == "(devel)" {
		return "pkg:golang/" + path
	}
	return "pkg:golang/" + path + "@" + version
}

// h1Hex returns the SHA-256 of a go.sum "h1:" hash in hex.
func h1Hex(sum string) (string, bool) {
	b64, ok := strings.CutPrefix(sum, "h1:")
	if !ok {
		return "", false
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) != sha256.Size {
		return "", false
	}
	return hex.EncodeToString(b), true
}

// serialNumber is a UUID URN derived from the binary's SHA-256 (version 8,
// RFC 9562's custom layout), so rebuilding the same binary gives the same
// serial number.
func serialNumber(binSHA256 string) string {
	b, _ := hex.DecodeString(binSHA256)
	if len(b) < 16 {
		b = append(b, make([]byte, 16)...)
	}
	u := b[:16]
	u[6] = u[6]&0x0f | 0x80
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// toolVersion is relkit's own module version, "(devel)" when built from a
// checkout.
func toolVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func fileSHA256(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
