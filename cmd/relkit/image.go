package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/relkit/relkit/cmd/relkit/internal/gen"
	"github.com/relkit/relkit/cmd/relkit/internal/ociimage"
	"github.com/relkit/relkit/internal/manifest"
	"github.com/relkit/relkit/internal/reltar"
)

// caBundles are where build machines keep their CA certificate bundle:
// Debian and Ubuntu, Fedora and RHEL, Alpine and macOS, openSUSE.
var caBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/cert.pem",
	"/etc/ssl/ca-bundle.pem",
}

// Paths inside the image.
const (
	imageCABundle = "etc/ssl/certs/ca-certificates.crt" // where Go's crypto/x509 looks first on Linux
	imageZoneinfo = "usr/share/zoneinfo.zip"            // Go's own time zone database, found through ZONEINFO
)

var imageRepoRE = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*$`)

// imageName is NAME-VSN.oci, the image layout directory; the tar is
// NAME-VSN.oci.tar.
func imageName(name, version string) string { return name + "-" + version + ".oci" }

// findCABundle returns the CA bundle to copy into the image: flagValue
// when given, else the build machine's.
func findCABundle(flagValue string) (string, error) {
	if flagValue != "" {
		if info, err := os.Stat(flagValue); err != nil || !info.Mode().IsRegular() {
			return "", usagef("relkit help build", "-ca-certs %s: not a file", flagValue)
		}
		return flagValue, nil
	}
	for _, p := range caBundles {
		if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no CA certificate bundle on this machine (looked at %s): install your system's ca-certificates package, or pass -ca-certs FILE", strings.Join(caBundles, ", "))
}

// writeImage writes one OCI image of the assembled releases, one platform
// per target, as out/NAME-VSN.oci and out/NAME-VSN.oci.tar.
func writeImage(p *project, out, caBundle string, port int, results []releaseResult) (*ociimage.Result, string, error) {
	zoneinfo := filepath.Join(p.goroot, "lib", "time", "zoneinfo.zip")
	if _, err := os.Stat(zoneinfo); err != nil {
		return nil, "", fmt.Errorf("the Go installation has no time zone database at %s (the image takes it from there): reinstall Go from its official archive", zoneinfo)
	}
	m0 := results[0].manifest
	repo, err := imageRepository(m0.Name)
	if err != nil {
		return nil, "", err
	}
	tag := strings.ReplaceAll(m0.Version, "+", "_")
	annotations := map[string]string{
		ociimage.AnnotationTitle:   m0.Name,
		ociimage.AnnotationVersion: m0.Version,
		ociimage.AnnotationCreated: m0.BuildTime.UTC().Format(time.RFC3339),
	}
	if m0.VCS != nil && m0.VCS.Revision != "" {
		annotations[ociimage.AnnotationRevision] = m0.VCS.Revision
	}
	var images []ociimage.Image
	for _, r := range results {
		app, err := imageAppEntries(r.dir, r.manifest)
		if err != nil {
			return nil, "", err
		}
		system := []ociimage.Entry{
			{Path: "etc/passwd", Data: []byte(fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:%s:/sbin/nologin\n", gen.DefaultUID, gen.DefaultUID, gen.ImageRoot))},
			{Path: "etc/group", Data: []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", gen.DefaultUID))},
			{Path: imageCABundle, Source: caBundle},
			{Path: imageZoneinfo, Source: zoneinfo},
		}
		bin := path.Join(gen.ImageRoot, "bin", r.manifest.Name)
		uid := strconv.Itoa(gen.DefaultUID)
		images = append(images, ociimage.Image{
			Platform: ociimage.Platform{OS: r.manifest.OS, Architecture: r.manifest.Arch},
			Layers:   [][]ociimage.Entry{system, app},
			Created:  r.manifest.BuildTime,
			Config: ociimage.Config{
				User:         uid + ":" + uid,
				ExposedPorts: map[string]struct{}{strconv.Itoa(port) + "/tcp": {}},
				Env: []string{"HOME=" + gen.ImageRoot, "TMPDIR=" + gen.ImageRoot + "/tmp", "SERVER=true",
					"PORT=" + strconv.Itoa(port), "ZONEINFO=/" + imageZoneinfo},
				Entrypoint: []string{bin},
				Cmd:        []string{"start"},
				WorkingDir: gen.ImageRoot,
				Labels:     annotations,
				StopSignal: "SIGTERM",
				Healthcheck: &ociimage.HealthCheck{Test: []string{"CMD", bin, "health"},
					Interval: 10 * time.Second, Timeout: 5 * time.Second, StartPeriod: 20 * time.Second, Retries: 3},
			},
			Annotations: annotations,
		})
	}
	dir := filepath.Join(out, imageName(m0.Name, m0.Version))
	for _, old := range []string{dir, dir + ".tar"} {
		if err := os.RemoveAll(old); err != nil {
			return nil, "", err
		}
	}
	res, err := ociimage.Write(images, ociimage.Options{Dir: dir, Tar: dir + ".tar", Repository: repo, Tag: tag, Annotations: annotations})
	if err != nil {
		return nil, "", fmt.Errorf("write the image: %w", err)
	}
	return res, repo + ":" + tag, nil
}

// imageRepository is the release name as an image repository name.
func imageRepository(name string) (string, error) {
	n := strings.NewReplacer("_", "-").Replace(strings.ToLower(name))
	if !imageRepoRE.MatchString(n) {
		return "", fmt.Errorf("release name %q gives the image name %q, which is not a valid repository name (lower-case letters, digits, '.', '-')", name, n)
	}
	return n, nil
}

// imageAppEntries lists the release at dir under /app: exactly the files
// its release.json lists, owned by root; tmp/ and log/ belong to the
// runtime user, the only places it can write.
func imageAppEntries(dir string, m *manifest.Manifest) ([]ociimage.Entry, error) {
	root := strings.TrimPrefix(gen.ImageRoot, "/")
	entries := []ociimage.Entry{{Path: root, Type: fs.ModeDir}}
	for _, d := range reltar.Dirs {
		entries = append(entries, ociimage.Entry{Path: path.Join(root, d), Type: fs.ModeDir, Mode: 0o755, UID: gen.DefaultUID, GID: gen.DefaultUID})
	}
	files := append([]manifest.File{}, m.Files...)
	files = append(files, manifest.File{Path: path.Join(m.Dir(), manifest.FileName)})
	for _, f := range files {
		e := ociimage.Entry{Path: path.Join(root, f.Path)}
		switch {
		case f.Link != "":
			e.Type, e.Link = fs.ModeSymlink, f.Link
		default:
			e.Source = filepath.Join(dir, filepath.FromSlash(f.Path))
			info, err := os.Lstat(e.Source)
			if err != nil {
				return nil, err
			}
			if !info.Mode().IsRegular() {
				return nil, errors.New(e.Source + " is not a regular file, as release.json says: rebuild the release")
			}
			e.Mode = 0o644
			if f.Mode == "0755" {
				e.Mode = 0o755
			}
		}
		entries = append(entries, e)
	}
	return entries, nil
}
