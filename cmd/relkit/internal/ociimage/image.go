package ociimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Media types of the OCI image specification.
const (
	MediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// Annotation keys of the OCI image specification.
const (
	AnnotationRefName  = "org.opencontainers.image.ref.name"
	AnnotationTitle    = "org.opencontainers.image.title"
	AnnotationVersion  = "org.opencontainers.image.version"
	AnnotationRevision = "org.opencontainers.image.revision"
	AnnotationCreated  = "org.opencontainers.image.created"
)

// Platform is what an image runs on.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

// String returns OS/ARCH[/VARIANT].
func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// HealthCheck is Docker's HEALTHCHECK, recorded in the image config.
type HealthCheck struct {
	Test        []string      `json:"Test"`
	Interval    time.Duration `json:"Interval,omitempty"`
	Timeout     time.Duration `json:"Timeout,omitempty"`
	StartPeriod time.Duration `json:"StartPeriod,omitempty"`
	Retries     int           `json:"Retries,omitempty"`
}

// Config is the execution configuration of an image (the "config" object
// of the OCI image configuration; Healthcheck is Docker's extension).
type Config struct {
	User         string              `json:"User,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	Healthcheck  *HealthCheck        `json:"Healthcheck,omitempty"`
}

// Image is one platform's image.
type Image struct {
	// Platform is what the image's binaries run on. Required.
	Platform Platform
	// Layers are applied in order, the first at the bottom. At least one.
	Layers [][]Entry
	// Config is the execution configuration.
	Config Config
	// Created is recorded in the config and on every layer entry. Use the
	// build time of the release (SOURCE_DATE_EPOCH or the commit time) for
	// a reproducible image.
	Created time.Time
	// Annotations go into the image manifest, e.g. AnnotationVersion.
	Annotations map[string]string
}

// Descriptor points at a blob (OCI content descriptor).
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *Platform         `json:"platform,omitempty"`
}

// Options say where [Write] puts the image and what it names it.
type Options struct {
	// Dir is the OCI image layout directory to write; it must not exist.
	// Default: none.
	Dir string
	// Tar is the tar file to write, the same layout plus Docker's
	// manifest.json for a single platform. Default: none.
	Tar string
	// Repository and Tag name the image, e.g. "links" and "1.2.0": Tag is
	// the layout's reference name (oci:DIR:TAG), Repository:Tag the tag
	// docker load gives it. Tag is required.
	Repository, Tag string
	// Annotations go into the image index for several platforms, and into
	// the descriptor in index.json.
	Annotations map[string]string
}

// Result describes a written image.
type Result struct {
	// Digest identifies the image: its manifest's digest for one
	// platform, its image index's for several.
	Digest string
	// Manifests are the platform images' manifest descriptors, in order.
	Manifests []Descriptor
}

// ErrNoOutput is returned by [Write] when Options names neither Dir nor Tar.
var ErrNoOutput = errors.New("no image output: set Options.Dir or Options.Tar")

// Write writes images, one per platform, as an OCI image layout into
// opts.Dir and/or opts.Tar, and returns the image's digest. Files are
// written to temporary names and renamed into place at the end.
func Write(images []Image, opts Options) (*Result, error) {
	if opts.Dir == "" && opts.Tar == "" {
		return nil, ErrNoOutput
	}
	if len(images) == 0 {
		return nil, errors.New("no image to write")
	}
	if opts.Tag == "" {
		return nil, errors.New("the image needs a tag (Options.Tag)")
	}
	blobs := map[string][]byte{}
	put := func(mediaType string, data []byte) Descriptor {
		sum := sha256.Sum256(data)
		d := "sha256:" + hex.EncodeToString(sum[:])
		blobs[d] = data
		return Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
	}
	res := &Result{}
	var docker []dockerManifest
	seen := map[string]bool{}
	for _, img := range images {
		if img.Platform.OS == "" || img.Platform.Architecture == "" {
			return nil, errors.New("an image needs its platform's OS and architecture")
		}
		if seen[img.Platform.String()] {
			return nil, fmt.Errorf("two images for %s", img.Platform)
		}
		seen[img.Platform.String()] = true
		if len(img.Layers) == 0 {
			return nil, fmt.Errorf("the %s image has no layer", img.Platform)
		}
		created := img.Created.UTC().Truncate(time.Second)
		var layerDescs []Descriptor
		var diffIDs []string
		for _, entries := range img.Layers {
			l, err := buildLayer(entries, created)
			if err != nil {
				return nil, err
			}
			layerDescs = append(layerDescs, put(MediaTypeLayer, l.blob))
			diffIDs = append(diffIDs, l.diffID)
		}
		cfg, err := canonical(imageConfig{
			Created: created.Format(time.RFC3339), Architecture: img.Platform.Architecture, OS: img.Platform.OS,
			Variant: img.Platform.Variant, Config: img.Config,
			RootFS:  rootFS{Type: "layers", DiffIDs: diffIDs},
			History: []history{{Created: created.Format(time.RFC3339), CreatedBy: "relkit build -image"}},
		})
		if err != nil {
			return nil, err
		}
		cfgDesc := put(MediaTypeConfig, cfg)
		man, err := canonical(manifest{SchemaVersion: 2, MediaType: MediaTypeManifest, Config: cfgDesc, Layers: layerDescs, Annotations: img.Annotations})
		if err != nil {
			return nil, err
		}
		desc := put(MediaTypeManifest, man)
		p := img.Platform
		desc.Platform = &p
		res.Manifests = append(res.Manifests, desc)
		dm := dockerManifest{Config: blobPath(cfgDesc.Digest)}
		if opts.Repository != "" {
			dm.RepoTags = []string{opts.Repository + ":" + opts.Tag}
		}
		for _, l := range layerDescs {
			dm.Layers = append(dm.Layers, blobPath(l.Digest))
		}
		docker = append(docker, dm)
	}

	ref := map[string]string{AnnotationRefName: opts.Tag}
	for k, v := range opts.Annotations {
		ref[k] = v
	}
	var top Descriptor
	if len(res.Manifests) == 1 {
		top = res.Manifests[0]
	} else {
		idx, err := canonical(index{SchemaVersion: 2, MediaType: MediaTypeIndex, Manifests: res.Manifests, Annotations: opts.Annotations})
		if err != nil {
			return nil, err
		}
		top = put(MediaTypeIndex, idx)
		docker = nil // docker load's manifest.json has no notion of platforms
	}
	res.Digest = top.Digest
	top.Annotations = ref
	layoutIndex, err := canonical(index{SchemaVersion: 2, MediaType: MediaTypeIndex, Manifests: []Descriptor{top}})
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`),
		"index.json": layoutIndex,
	}
	for d, data := range blobs {
		files[blobPath(d)] = data
	}
	if opts.Dir != "" {
		if err := writeDir(opts.Dir, files); err != nil {
			return nil, err
		}
	}
	if opts.Tar != "" {
		if docker != nil {
			m, err := canonical(docker)
			if err != nil {
				return nil, err
			}
			files["manifest.json"] = m
		}
		if err := writeTar(opts.Tar, files, images[0].Created.UTC().Truncate(time.Second)); err != nil {
			return nil, err
		}
	}
	return res, nil
}

type imageConfig struct {
	Created      string    `json:"created"`
	Architecture string    `json:"architecture"`
	OS           string    `json:"os"`
	Variant      string    `json:"variant,omitempty"`
	Config       Config    `json:"config"`
	RootFS       rootFS    `json:"rootfs"`
	History      []history `json:"history"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type history struct {
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
}

type manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Config        Descriptor        `json:"config"`
	Layers        []Descriptor      `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type index struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Manifests     []Descriptor      `json:"manifests"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// canonical encodes v as compact JSON; encoding/json sorts map keys, so
// equal values give equal bytes.
func canonical(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func blobPath(digest string) string {
	return "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:")
}

func sortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// writeDir writes the layout into a temporary sibling of dir and renames
// it into place; dir must not exist.
func writeDir(dir string, files map[string][]byte) error {
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("%s already exists: remove it or write the image elsewhere", dir)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, name := range sortedNames(files) {
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// writeTar writes the layout as an uncompressed tar (layers are already
// compressed), entries sorted, every time mtime.
func writeTar(file string, files map[string][]byte, mtime time.Time) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, name := range sortedNames(files) {
		if d, _, ok := strings.Cut(name, "/"); ok && !dirs[d] {
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
				return err
			}
			if d == "blobs" {
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "blobs/sha256/", Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
					return err
				}
			}
		}
		data := files[name]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}
