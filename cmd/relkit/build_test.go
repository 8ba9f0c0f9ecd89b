package main

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/manifest"
)

func sha256File(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestBuildLayoutAndManifest(t *testing.T) {
	t.Parallel()
	out := buildOnce(t, &sampleBuild)
	root := filepath.Join(out, "sample")

	link, err := os.Readlink(filepath.Join(root, "bin", "sample"))
	if err != nil || link != "../releases/0.3.0/sample" {
		t.Fatalf("bin/sample: want a symlink to ../releases/0.3.0/sample, got %q (%v)", link, err)
	}
	for _, d := range []string{"tmp", "log"} {
		if info, err := os.Stat(filepath.Join(root, d)); err != nil || !info.IsDir() {
			t.Errorf("%s/: want an empty directory for the running release, got %v", d, err)
		}
	}
	m, err := manifest.Read(filepath.Join(root, "releases", "0.3.0", "release.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "sample" || m.Version != "0.3.0" || m.Target() != runtime.GOOS+"/"+runtime.GOARCH || m.CGO {
		t.Errorf("manifest: want sample 0.3.0 %s/%s without cgo, got %s %s %s cgo=%v", runtime.GOOS, runtime.GOARCH, m.Name, m.Version, m.Target(), m.CGO)
	}
	if !strings.HasPrefix(m.GoVersion, "go1.") {
		t.Errorf("go_version: want go1.x, got %q", m.GoVersion)
	}
	if want := time.Unix(1700000000, 0).UTC(); !m.BuildTime.Equal(want) || m.BuildTimeSource != manifest.BuildTimeFromEnv {
		t.Errorf("build time: want %v from SOURCE_DATE_EPOCH, got %v from %s", want, m.BuildTime, m.BuildTimeSource)
	}
	if m.VCS == nil || len(m.VCS.Revision) < 40 {
		t.Errorf("vcs: want the git revision of this checkout, got %+v", m.VCS)
	}

	// Every file in the tree is listed, with the checksum of its content.
	listed := map[string]manifest.File{}
	for _, f := range m.Files {
		listed[f.Path] = f
	}
	var onDisk []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "releases/0.3.0/release.json" {
			return nil
		}
		onDisk = append(onDisk, rel)
		f, ok := listed[rel]
		switch {
		case !ok:
			t.Errorf("%s is in the release but not in release.json", rel)
		case d.Type()&fs.ModeSymlink != 0:
			if target, _ := os.Readlink(p); target != f.Link {
				t.Errorf("%s: want link %s in release.json, got %s", rel, target, f.Link)
			}
		default:
			if got := sha256File(t, p); got != f.SHA256 {
				t.Errorf("%s: file hashes to %s, release.json says %s", rel, got, f.SHA256)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(onDisk)
	wantFiles := []string{"bin/hook.sh", "bin/sample", "etc/motd.txt", "releases/0.3.0/sample", "releases/0.3.0/sbom.cdx.json"}
	if strings.Join(onDisk, " ") != strings.Join(wantFiles, " ") || len(m.Files) != len(wantFiles) {
		t.Errorf("files: want %v (binary, link, overlays), got on disk %v, in release.json %d", wantFiles, onDisk, len(m.Files))
	}
	if f := listed["bin/hook.sh"]; f.Mode != "0755" {
		t.Errorf("overlay bin/hook.sh: want mode 0755 kept, got %q", f.Mode)
	}
	if f := listed["etc/motd.txt"]; f.Mode != "0644" {
		t.Errorf("overlay etc/motd.txt: want mode 0644, got %q", f.Mode)
	}

	// The migrations are the ones embedded from the source tree.
	var wantMigrations []string
	for _, name := range []string{"001_notes.down.sql", "001_notes.up.sql"} {
		sum := sha256File(t, filepath.Join(moduleRoot, samplePkg, "migrations", name))
		wantMigrations = append(wantMigrations, name+"="+sum)
	}
	var gotMigrations []string
	for _, mg := range m.Migrations {
		gotMigrations = append(gotMigrations, mg.File+"="+mg.SHA256)
	}
	if strings.Join(wantMigrations, " ") != strings.Join(gotMigrations, " ") {
		t.Errorf("migrations:\nwant %v\ngot  %v", wantMigrations, gotMigrations)
	}
	if err := m.Verify(root); err != nil {
		t.Errorf("Verify of a fresh release: %v", err)
	}
	checkSBOM(t, root, m)
}

// checkSBOM checks the release's SBOM against release.json and relkit's
// own go.sum: listed with its checksum, naming the app and each module
// the sample links with the version and hash go.sum records. (The format
// itself is checked by the official schema in .ci/extra/sbomcheck.)
func checkSBOM(t *testing.T, root string, m *manifest.Manifest) {
	t.Helper()
	f, ok := m.SBOM()
	if !ok || f.Path != "releases/0.3.0/sbom.cdx.json" {
		t.Fatalf("release.json lists no SBOM at releases/0.3.0/sbom.cdx.json: %+v", m.Files)
	}
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.Path)))
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		BOMFormat, SpecVersion string
		Metadata               struct {
			Timestamp string
			Component struct{ Name, Version string }
		}
		Components []struct {
			Name, Version string
			Hashes        []struct{ Alg, Content string }
		}
	}
	if err := json.Unmarshal(data, &bom); err != nil {
		t.Fatalf("sbom: %v", err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.6" || bom.Metadata.Component.Version != "0.3.0" || bom.Metadata.Timestamp != "2023-11-14T22:13:20Z" {
		t.Errorf("sbom: want CycloneDX 1.6 of version 0.3.0 at the build time, got %s %s of %q at %s", bom.BOMFormat, bom.SpecVersion, bom.Metadata.Component.Version, bom.Metadata.Timestamp)
	}
	sums, err := os.ReadFile(filepath.Join(moduleRoot, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range bom.Components {
		h := ""
		if len(c.Hashes) == 1 && c.Hashes[0].Alg == "SHA-256" {
			h = c.Hashes[0].Content
		}
		got[c.Name] = c.Version + " " + h
	}
	for _, mod := range []string{"github.com/caarlos0/env/v10", "aead.dev/minisign"} {
		want := ""
		for _, line := range strings.Split(string(sums), "\n") {
			fields := strings.Fields(line)
			if len(fields) == 3 && fields[0] == mod && !strings.HasSuffix(fields[1], "/go.mod") {
				b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(fields[2], "h1:"))
				want = fields[1] + " " + hex.EncodeToString(b)
			}
		}
		if want == "" || got[mod] != want {
			t.Errorf("sbom component %s: want %q (version and h1 hash from go.sum), got %q", mod, want, got[mod])
		}
	}
	if got["std"] != m.GoVersion+" " {
		t.Errorf("sbom: want component std at %s, got %q", m.GoVersion, got["std"])
	}
}

func TestBuildTwiceGivesIdenticalTarballs(t *testing.T) {
	t.Parallel()
	a := buildOnce(t, &sampleBuild)
	b := buildOnce(t, &sampleRebuild)
	name := "sample-0.3.0-" + runtime.GOOS + "-" + runtime.GOARCH + ".tar.gz"
	ta, err := os.ReadFile(filepath.Join(a, name))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := os.ReadFile(filepath.Join(b, name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ta, tb) {
		t.Fatalf("two builds of the same commit gave different tarballs (%d and %d bytes)", len(ta), len(tb))
	}
	sa, _ := os.ReadFile(filepath.Join(a, name+".sha256"))
	sb, _ := os.ReadFile(filepath.Join(b, name+".sha256"))
	if string(sa) == "" || string(sa) != string(sb) {
		t.Fatalf(".sha256 files: want equal and non-empty, got %q and %q", sa, sb)
	}
	if !strings.HasSuffix(string(sa), "  "+name+"\n") {
		t.Errorf(".sha256: want sha256sum format ending in '  %s', got %q", name, sa)
	}
	if p, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command(p, "-c", name+".sha256")
		cmd.Dir = a
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, out)
		}
	}
}

func TestTarCommandPacksOnlyTheRelease(t *testing.T) {
	t.Parallel()
	src := buildOnce(t, &sampleBuild)
	name := "sample-0.3.0-" + runtime.GOOS + "-" + runtime.GOARCH + ".tar.gz"
	want, err := os.ReadFile(filepath.Join(src, name))
	if err != nil {
		t.Fatal(err)
	}
	// A copy of the release that has been run in place: PID file and log.
	root := filepath.Join(t.TempDir(), "sample")
	if out, err := exec.Command("cp", "-a", filepath.Join(src, "sample"), root).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	for _, f := range []string{"tmp/sample.pid", "log/sample.log"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte("runtime"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	r := mustRelkit(t, "tar", "-o", out, root)
	if !strings.Contains(r.stdout, name) {
		t.Errorf("relkit tar: want the tarball %s named on stdout, got %q", name, r.stdout)
	}
	got, err := os.ReadFile(filepath.Join(out, name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Fatalf("relkit tar of a release run in place: want the bytes of relkit build -tar (%d), got %d bytes", len(want), len(got))
	}

	// A damaged release is refused, naming the file.
	if err := os.WriteFile(filepath.Join(root, "etc", "motd.txt"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = relkit(t, nil, "tar", "-o", out, root)
	if r.code != exitFailure || !strings.Contains(r.stderr, "etc/motd.txt") || !strings.Contains(r.stderr, "do not match release.json") {
		t.Fatalf("relkit tar of a damaged release: want exit 1 naming etc/motd.txt, got %d: %s", r.code, r.stderr)
	}
}

func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the standard library for two targets")
	}
	t.Parallel()
	out := t.TempDir()
	mustRelkit(t, "build", "-version", "1.0.0-rc.1", "-target", "linux/arm64,darwin/arm64", "-tar", "-o", out, samplePkg)
	for _, tt := range []struct{ goos, goarch string }{{"linux", "arm64"}, {"darwin", "arm64"}} {
		root := filepath.Join(out, "sample-"+tt.goos+"-"+tt.goarch)
		m, err := manifest.Read(filepath.Join(root, "releases", "1.0.0-rc.1", "release.json"))
		if err != nil {
			t.Fatal(err)
		}
		if m.OS != tt.goos || m.Arch != tt.goarch {
			t.Errorf("%s: want target %s/%s in release.json, got %s", root, tt.goos, tt.goarch, m.Target())
		}
		bin := filepath.Join(root, "releases", "1.0.0-rc.1", "sample")
		bi, err := buildinfo.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		if settings["GOOS"] != tt.goos || settings["GOARCH"] != tt.goarch || settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
			t.Errorf("%s: want GOOS=%s GOARCH=%s CGO_ENABLED=0 -trimpath, got %v", bin, tt.goos, tt.goarch, settings)
		}
		// -trimpath keeps -ldflags out of the build info; the injected
		// string is in the binary's data, and only there if -X worked.
		if data, err := os.ReadFile(bin); err != nil || !bytes.Contains(data, []byte("1.0.0-rc.1")) {
			t.Errorf("%s: want the version 1.0.0-rc.1 injected with -X in the binary (%v)", bin, err)
		}
		if err := m.Verify(root); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(filepath.Join(out, "sample-1.0.0-rc.1-"+tt.goos+"-"+tt.goarch+".tar.gz")); err != nil {
			t.Errorf("tarball for %s/%s: %v", tt.goos, tt.goarch, err)
		}
	}
}

// TestCrossBuildWithGOARCH follows the go command's convention: GOOS and
// GOARCH in the environment choose the target, while the binary relkit asks
// for the app's metadata is still built for the build machine.
func TestCrossBuildWithGOARCH(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the standard library")
	}
	t.Parallel()
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	out := t.TempDir()
	r := relkit(t, testEnv("GOOS=linux", "GOARCH="+other), "build", "-o", out, samplePkg)
	if r.code != 0 {
		t.Fatalf("GOOS=linux GOARCH=%s relkit build: want exit 0, got %d\n%s", other, r.code, r.stderr)
	}
	m, err := manifest.Read(filepath.Join(out, "sample", "releases", "0.3.0", "release.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Target() != "linux/"+other {
		t.Errorf("release.json: want target linux/%s from GOOS and GOARCH, got %s", other, m.Target())
	}
	if err := m.Verify(filepath.Join(out, "sample")); err != nil {
		t.Error(err)
	}
}

func TestBuildRefuses(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end: probes apps built with the go command; skipped with -short")
	}
	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		want     []string
	}{
		{"library package", nil, []string{"build", "./internal/layout"}, exitFailure,
			[]string{"Error: github.com/relkit/relkit/internal/layout is package layout, not a command"}},
		{"not a relkit app", nil, []string{"build", "./cmd/relkit/testdata/plain"}, exitFailure,
			[]string{"not a relkit app", "release.Main"}},
		{"no version declared", []string{"GOFLAGS=-buildvcs=false"}, []string{"build", "./cmd/relkit/testdata/noversion"}, exitUsage,
			[]string{"Error: noversion declares no version: pass -version, or set Version in its release.App", "Try: relkit build -version 1.0.0 ./cmd/relkit/testdata/noversion"}},
		{"bad SOURCE_DATE_EPOCH", []string{"SOURCE_DATE_EPOCH=yesterday"}, []string{"build", samplePkg}, exitFailure,
			[]string{`SOURCE_DATE_EPOCH="yesterday" is not a Unix time`}},
		{"no such package", nil, []string{"build", "./cmd/relkit/testdata/missing"}, exitFailure,
			[]string{"Error: package ./cmd/relkit/testdata/missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{tt.args[0], "-o", t.TempDir()}, tt.args[1:]...)
			r := relkit(t, testEnv(tt.env...), args...)
			if r.code != tt.wantCode {
				t.Fatalf("want exit %d, got %d\nstderr: %s", tt.wantCode, r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr: want %q, got %q", w, r.stderr)
				}
			}
		})
	}
}
