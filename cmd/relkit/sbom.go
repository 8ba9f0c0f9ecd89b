package main

// The SBOM relkit build writes into every release, releases/VSN/sbom.cdx.json.
//
// Format: CycloneDX 1.6 JSON rather than SPDX 2.3. CycloneDX has a
// Go-module vocabulary already in use (purl pkg:golang/..., the cdx:gomod
// property taxonomy of cyclonedx-gomod, which this file follows), so a Go
// binary's build info maps onto it without invention; and its metadata
// timestamp and serial number are optional, so the document can be a pure
// function of the binary and the recorded build time (SPDX 2.3 requires a
// creation time and a unique documentNamespace, which a reproducible build
// must then fake).
//
// Written with the standard library, like the OCI image (see doc.go): with
// github.com/CycloneDX/cyclonedx-go imported here, `go run
// github.com/relkit/relkit/cmd/relkit` from an app without the tool
// directive, and so the build stage of the Dockerfile relkit gen docker
// writes, fail with "missing go.sum entry for module providing package
// github.com/CycloneDX/cyclonedx-go" (tried). The subset written is small:
// the types below. .ci/extra/sbomcheck checks the result with the
// format's own tools: CycloneDX's 1.6 JSON schema, and cyclonedx-go, which
// must decode it and encode it back to the same JSON (so no field is one
// the official library does not know).
//
// What goes in, all from the binary's build info (debug/buildinfo, which
// reads binaries of any target):
//   - metadata.component: the app (main module path, release version, the
//     binary's name and main package), with the Go version, GOOS/GOARCH,
//     CGO_ENABLED, compiler, VCS revision/time/modified and tags as
//     cdx:gomod:build:* properties, every build setting
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
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
)

// sbomSpec is the CycloneDX version relkit writes.
const sbomSpec = "1.6"

// The subset of CycloneDX 1.6 that relkit writes, field for field the JSON
// names of the specification (and of cyclonedx-go's types).
type (
	cdxBOM struct {
		Schema       string          `json:"$schema"`
		BOMFormat    string          `json:"bomFormat"`
		SpecVersion  string          `json:"specVersion"`
		SerialNumber string          `json:"serialNumber"`
		Version      int             `json:"version"`
		Metadata     cdxMetadata     `json:"metadata"`
		Components   []cdxComponent  `json:"components"`
		Dependencies []cdxDependency `json:"dependencies"`
	}
	cdxMetadata struct {
		Timestamp string        `json:"timestamp"`
		Tools     cdxTools      `json:"tools"`
		Component *cdxComponent `json:"component"`
	}
	cdxTools struct {
		Components []cdxComponent `json:"components"`
	}
	cdxComponent struct {
		BOMRef     string        `json:"bom-ref,omitempty"`
		Type       string        `json:"type"`
		Name       string        `json:"name"`
		Version    string        `json:"version,omitempty"`
		Scope      string        `json:"scope,omitempty"`
		Hashes     []cdxHash     `json:"hashes,omitempty"`
		PURL       string        `json:"purl,omitempty"`
		Properties []cdxProperty `json:"properties,omitempty"`
	}
	cdxHash struct {
		Alg     string `json:"alg"`
		Content string `json:"content"`
	}
	cdxProperty struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	cdxDependency struct {
		Ref       string   `json:"ref"`
		DependsOn []string `json:"dependsOn,omitempty"`
	}
)

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
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(bom); err != nil {
		return nil, fmt.Errorf("sbom: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// buildSBOM describes bi; binSHA256 is the binary's hex SHA-256.
func buildSBOM(bi *debug.BuildInfo, name, version string, buildTime time.Time, binSHA256 string, flags relkitFlags) *cdxBOM {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	props := []cdxProperty{
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
			props = append(props, cdxProperty{Name: "cdx:gomod:" + name, Value: v})
		}
	}
	if tags := settings["-tags"]; tags != "" {
		for _, tag := range strings.Split(tags, ",") {
			props = append(props, cdxProperty{Name: "cdx:gomod:build:tag", Value: tag})
		}
	}
	for _, s := range bi.Settings {
		props = append(props, cdxProperty{Name: "relkit:build:setting:" + s.Key, Value: s.Value})
	}
	sort.SliceStable(props, func(i, j int) bool {
		if props[i].Name != props[j].Name {
			return props[i].Name < props[j].Name
		}
		return props[i].Value < props[j].Value
	})

	app := &cdxComponent{
		BOMRef: "app:" + bi.Main.Path, Type: "application",
		Name: bi.Main.Path, Version: version, Properties: props,
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		app.PURL = purl(bi.Main.Path, v)
	}
	std := cdxComponent{
		BOMRef: purl("std", bi.GoVersion), Type: "library", Name: "std",
		Version: bi.GoVersion, PURL: purl("std", bi.GoVersion), Scope: "required",
	}
	components := []cdxComponent{std}
	refs := []string{std.BOMRef}
	for _, dep := range bi.Deps {
		c := moduleComponent(dep)
		components = append(components, c)
		refs = append(refs, c.BOMRef)
	}

	tool := cdxComponent{Type: "application", Name: "relkit", Version: toolVersion()}
	return &cdxBOM{
		Schema: "http://cyclonedx.org/schema/bom-1.6.schema.json", BOMFormat: "CycloneDX", SpecVersion: sbomSpec,
		SerialNumber: serialNumber(binSHA256), Version: 1,
		Metadata: cdxMetadata{
			Timestamp: buildTime.UTC().Format(time.RFC3339),
			Tools:     cdxTools{Components: []cdxComponent{tool}},
			Component: app,
		},
		Components:   components,
		Dependencies: []cdxDependency{{Ref: app.BOMRef, DependsOn: refs}},
	}
}

// moduleComponent describes one dependency module, the replacement when
// the build used one (a local directory replacement has no version and no
// hash).
func moduleComponent(dep *debug.Module) cdxComponent {
	m := dep
	if dep.Replace != nil {
		m = dep.Replace
	}
	c := cdxComponent{Type: "library", Name: m.Path, Version: m.Version, Scope: "required"}
	c.BOMRef = purl(m.Path, m.Version)
	if m.Version != "" && m.Version != "(devel)" {
		c.PURL = c.BOMRef
	}
	if h, ok := h1Hex(m.Sum); ok {
		c.Hashes = []cdxHash{{Alg: "SHA-256", Content: h}}
	}
	if dep.Replace != nil {
		props := []cdxProperty{{Name: "relkit:replaces", Value: dep.Path + "@" + dep.Version}}
		c.Properties = props
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
