package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testImage(arch string) Image {
	return Image{
		Platform: Platform{OS: "linux", Architecture: arch},
		Created:  time.Unix(1700000000, 0),
		Layers: [][]Entry{{
			{Path: "app/bin/hello", Type: fs.ModeSymlink, Link: "../releases/1/hello"},
			{Path: "app/releases/1/hello", Data: []byte("#!binary"), Mode: 0o755},
			{Path: "app/tmp", Type: fs.ModeDir, UID: 65534, GID: 65534},
		}},
		Config: Config{User: "65534:65534", Entrypoint: []string{"/app/bin/hello"}},
	}
}

func readBlob(t *testing.T, dir, digest string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:")))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); "sha256:"+hex.EncodeToString(sum[:]) != digest {
		t.Fatalf("blob %s does not have its digest", digest)
	}
	return b
}

func TestWriteLayoutIsConsistentAndReproducible(t *testing.T) {
	t.Parallel()
	var digests []string
	for range 2 {
		dir := filepath.Join(t.TempDir(), "img.oci")
		res, err := Write([]Image{testImage("amd64")}, Options{Dir: dir, Tar: dir + ".tar", Repository: "hello", Tag: "1"})
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, res.Digest)
		var idx index
		if err := json.Unmarshal(mustRead(t, filepath.Join(dir, "index.json")), &idx); err != nil {
			t.Fatal(err)
		}
		if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != res.Digest || idx.Manifests[0].Annotations[AnnotationRefName] != "1" {
			t.Fatalf("index.json: want one manifest %s named 1, got %+v", res.Digest, idx)
		}
		var m manifest
		json.Unmarshal(readBlob(t, dir, res.Digest), &m)
		var cfg imageConfig
		json.Unmarshal(readBlob(t, dir, m.Config.Digest), &cfg)
		layer := readBlob(t, dir, m.Layers[0].Digest)
		zr, err := gzip.NewReader(bytes.NewReader(layer))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(zr)
		if sum := sha256.Sum256(raw); cfg.RootFS.DiffIDs[0] != "sha256:"+hex.EncodeToString(sum[:]) {
			t.Errorf("diff_id: want the digest of the uncompressed layer")
		}
		var names []string
		tr := tar.NewReader(bytes.NewReader(raw))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			names = append(names, h.Name)
			if !h.ModTime.Equal(time.Unix(1700000000, 0)) || h.Uname != "" {
				t.Errorf("%s: want the fixed time and no owner names, got %v %q", h.Name, h.ModTime, h.Uname)
			}
			if h.Name == "app/tmp/" && h.Uid != 65534 {
				t.Errorf("app/tmp/: want owner 65534, got %d", h.Uid)
			}
		}
		if want := "app/ app/bin/ app/bin/hello app/releases/ app/releases/1/ app/releases/1/hello app/tmp/"; strings.Join(names, " ") != want {
			t.Errorf("layer entries: want %s (parents added, sorted), got %s", want, strings.Join(names, " "))
		}
	}
	if digests[0] != digests[1] {
		t.Errorf("two writes of one image: want one digest, got %v", digests)
	}
}

func TestWriteIndexForSeveralPlatforms(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "img.oci")
	res, err := Write([]Image{testImage("amd64"), testImage("arm64")}, Options{Dir: dir, Tar: dir + ".tar", Tag: "1"})
	if err != nil {
		t.Fatal(err)
	}
	var idx index
	json.Unmarshal(readBlob(t, dir, res.Digest), &idx)
	if idx.MediaType != MediaTypeIndex || len(idx.Manifests) != 2 || idx.Manifests[1].Platform.Architecture != "arm64" {
		t.Fatalf("want an image index of the two platforms, got %+v", idx)
	}
	// docker load's manifest.json cannot tell platforms apart: left out.
	tr := tar.NewReader(bytes.NewReader(mustRead(t, dir+".tar")))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if h.Name == "manifest.json" {
			t.Error("an image of several platforms carries Docker's manifest.json")
		}
	}
}

func TestWriteRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := testImage("amd64")
	bad.Layers = [][]Entry{{{Path: "../etc/passwd", Data: []byte("x")}}}
	clash := testImage("amd64")
	clash.Layers = [][]Entry{{{Path: "app", Data: []byte("x")}, {Path: "app/x", Data: []byte("y")}}}
	tests := []struct {
		name   string
		images []Image
		opts   Options
		want   string
	}{
		{"no output", []Image{testImage("amd64")}, Options{Tag: "1"}, "no image output"},
		{"no tag", []Image{testImage("amd64")}, Options{Dir: filepath.Join(dir, "a")}, "tag"},
		{"path outside the root", []Image{bad}, Options{Dir: filepath.Join(dir, "b"), Tag: "1"}, "relative slash-separated path"},
		{"file as a parent", []Image{clash}, Options{Dir: filepath.Join(dir, "c"), Tag: "1"}, "not a directory"},
		{"one platform twice", []Image{testImage("amd64"), testImage("amd64")}, Options{Dir: filepath.Join(dir, "d"), Tag: "1"}, "two images for linux/amd64"},
		{"existing directory", []Image{testImage("amd64")}, Options{Dir: dir, Tag: "1"}, "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Write(tt.images, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error containing %q, got %v", tt.want, err)
			}
		})
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
