package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"sort"
	"time"
)

// FileName is the manifest's file name inside releases/VSN/.
const FileName = "release.json"

// Schema is the manifest format version written by this package. [Read]
// refuses manifests with a newer schema.
const Schema = 1

// Sources of [Manifest.BuildTimeSource].
const (
	// BuildTimeFromEnv: SOURCE_DATE_EPOCH was set.
	BuildTimeFromEnv = "SOURCE_DATE_EPOCH"
	// BuildTimeFromVCS: the commit time of the built revision.
	BuildTimeFromVCS = "vcs"
	// BuildTimeFromClock: the time of the build (not reproducible).
	BuildTimeFromClock = "clock"
)

// Manifest describes one assembled release.
type Manifest struct {
	// Schema is the manifest format version, [Schema] when written by
	// this package.
	Schema int `json:"schema"`
	// Name is the release name, also the binary's name.
	Name string `json:"name"`
	// Version is the release version, also its directory under releases/.
	Version string `json:"version"`
	// OS and Arch are the target the binary was built for (GOOS, GOARCH).
	OS   string `json:"os"`
	Arch string `json:"arch"`
	// GoVersion is the toolchain that built the binary, e.g. "go1.24.2".
	GoVersion string `json:"go_version"`
	// CGO reports whether the binary was built with CGO_ENABLED=1.
	CGO bool `json:"cgo"`
	// VCS describes the source revision; nil when the source was not in
	// version control.
	VCS *VCS `json:"vcs,omitempty"`
	// BuildTime is the recorded build time (UTC, whole seconds). It is also
	// the modification time of every tarball entry.
	BuildTime time.Time `json:"build_time"`
	// BuildTimeSource says where BuildTime came from: one of
	// BuildTimeFromEnv, BuildTimeFromVCS or BuildTimeFromClock.
	BuildTimeSource string `json:"build_time_source"`
	// Files lists every file of the release tree except this manifest,
	// sorted by path.
	Files []File `json:"files"`
	// Migrations lists the SQL migrations embedded in the binary, sorted by
	// file name; empty when the app has none.
	Migrations []Migration `json:"migrations"`
}

// VCS describes the revision a release was built from.
type VCS struct {
	// System is the version control system, e.g. "git".
	System string `json:"system"`
	// Revision is the commit hash.
	Revision string `json:"revision"`
	// Time is the commit time (UTC); zero when unknown.
	Time time.Time `json:"time,omitzero"`
	// Modified reports uncommitted changes in the built tree.
	Modified bool `json:"modified"`
}

// File is one entry of a release tree: a regular file (Size, Mode, SHA256)
// or a symbolic link (Link).
type File struct {
	// Path is slash-separated and relative to the release root.
	Path string `json:"path"`
	// Size is the file's length in bytes.
	Size int64 `json:"size,omitempty"`
	// Mode is the file's permission bits in octal, "0644" or "0755".
	Mode string `json:"mode,omitempty"`
	// SHA256 is the hex SHA-256 of the file's content.
	SHA256 string `json:"sha256,omitempty"`
	// Link is the target of a symbolic link (always relative).
	Link string `json:"link,omitempty"`
}

// Migration is one SQL migration embedded in the binary.
type Migration struct {
	// File is the migration's file name, e.g. "001_create_links.up.sql".
	File string `json:"file"`
	// SHA256 is the hex SHA-256 of the migration's content.
	SHA256 string `json:"sha256"`
}

// Target returns "OS/ARCH", e.g. "linux/amd64".
func (m *Manifest) Target() string { return m.OS + "/" + m.Arch }

// Dir returns the slash-separated directory of the release's own files
// relative to the root: "releases/VSN".
func (m *Manifest) Dir() string { return path.Join("releases", m.Version) }

// Marshal returns the manifest as indented JSON ending in a newline, with
// files and migrations sorted and times in UTC, so that equal manifests
// give equal bytes.
func (m *Manifest) Marshal() ([]byte, error) {
	c := *m
	if c.Schema == 0 {
		c.Schema = Schema
	}
	c.BuildTime = c.BuildTime.UTC()
	if c.VCS != nil {
		v := *c.VCS
		v.Time = v.Time.UTC()
		c.VCS = &v
	}
	c.Files = append([]File{}, c.Files...)
	sort.Slice(c.Files, func(i, j int) bool { return c.Files[i].Path < c.Files[j].Path })
	c.Migrations = append([]Migration{}, c.Migrations...)
	sort.Slice(c.Migrations, func(i, j int) bool { return c.Migrations[i].File < c.Migrations[j].File })
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode release.json: %w", err)
	}
	return append(b, '\n'), nil
}

// Parse decodes a manifest, rejecting unknown fields and schemas newer than
// [Schema].
func Parse(data []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode release.json: %w", err)
	}
	switch {
	case m.Schema > Schema:
		return nil, fmt.Errorf("release.json has schema %d, this relkit reads up to %d: upgrade relkit", m.Schema, Schema)
	case m.Schema < 1:
		return nil, fmt.Errorf("release.json has no schema version: it was not written by relkit build")
	case m.Name == "" || m.Version == "":
		return nil, fmt.Errorf("release.json lacks the release name or version: rebuild the release")
	}
	return &m, nil
}

// Read reads and parses the manifest at file.
func Read(file string) (*Manifest, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read release manifest: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return m, nil
}

// Write writes the manifest to file with mode 0644.
func (m *Manifest) Write(file string) error {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return fmt.Errorf("write release manifest: %w", err)
	}
	return nil
}

// SBOMFile is the file name of the release's SBOM (CycloneDX JSON) inside
// releases/VSN/, next to release.json.
const SBOMFile = "sbom.cdx.json"

// SBOM returns the Files entry of the release's SBOM,
// releases/VSN/sbom.cdx.json, with its size and SHA-256; false when the
// release has none (built by a relkit without SBOMs). The SBOM is an
// ordinary entry of Files rather than a field of its own, so that
// release.json keeps schema 1: a release built before SBOMs, whose parser
// refuses unknown fields, still reads it and can upgrade to the release.
func (m *Manifest) SBOM() (File, bool) {
	want := path.Join(m.Dir(), SBOMFile)
	for _, f := range m.Files {
		if f.Path == want && f.Link == "" {
			return f, true
		}
	}
	return File{}, false
}
