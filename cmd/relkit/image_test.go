package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// needRoot skips unless the test runs as root, except under CI=true,
// where it fails.
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and not root: %s needs root", why)
		}
		t.Skipf("%s needs root", why)
	}
}

var imageDigestRE = func(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 4 && f[0] == "*" && f[1] == "image" {
			return f[3]
		}
	}
	return ""
}

// imageBuild is one relkit build -image of the sample app, shared by the
// image tests.
var imageBuild struct {
	once   sync.Once
	dirs   [2]string
	res    [2]result
	digest [2]string
}

func buildImages(t *testing.T) (string, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds images of the app with the go command; skipped with -short")
	}
	imageBuild.once.Do(func() {
		for i := range imageBuild.dirs {
			dir, err := os.MkdirTemp("", "relkit-image-test-")
			if err != nil {
				t.Fatal(err)
			}
			sharedDirs.mu.Lock()
			sharedDirs.dirs = append(sharedDirs.dirs, dir)
			sharedDirs.mu.Unlock()
			imageBuild.dirs[i] = dir
			imageBuild.res[i] = relkit(t, nil, "build", "-image", "-o", dir, samplePkg)
			imageBuild.digest[i] = imageDigestRE(imageBuild.res[i].stdout)
		}
	})
	for _, r := range imageBuild.res {
		if r.code != 0 {
			t.Fatalf("relkit build -image: want exit 0, got %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	}
	return imageBuild.dirs[0], imageBuild.digest[0]
}

// TestImageIsReproducible: two builds of one commit give the same image
// digest, byte-identical tars, and skopeo reads the same digest from both
// the layout directory and the tar.
func TestImageIsReproducible(t *testing.T) {
	t.Parallel()
	buildImages(t)
	d0, d1 := imageBuild.digest[0], imageBuild.digest[1]
	if !strings.HasPrefix(d0, "sha256:") || d0 != d1 {
		t.Fatalf("two builds of one commit: want one image digest, got %q and %q\n%s", d0, d1, imageBuild.res[0].stdout)
	}
	a := sha256File(t, filepath.Join(imageBuild.dirs[0], "sample-0.3.0.oci.tar"))
	b := sha256File(t, filepath.Join(imageBuild.dirs[1], "sample-0.3.0.oci.tar"))
	if a != b {
		t.Errorf("two builds of one commit: the image tars differ (%s, %s)", a, b)
	}
	skopeo := needTool(t, "skopeo")
	for _, ref := range []string{"oci:" + filepath.Join(imageBuild.dirs[0], "sample-0.3.0.oci") + ":0.3.0", "oci-archive:" + filepath.Join(imageBuild.dirs[1], "sample-0.3.0.oci.tar")} {
		var got struct{ Digest string }
		decodeJSON(t, run1(t, skopeo, "inspect", ref), &got)
		if got.Digest != d0 {
			t.Errorf("skopeo inspect %s: want digest %s, got %s", ref, d0, got.Digest)
		}
	}
}

func run1(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func decodeJSON(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

// imageConfig is the part of the image configuration the tests check.
type imageConfig struct {
	Architecture, OS string
	Config           struct {
		User, WorkingDir, StopSignal string
		Env, Entrypoint, Cmd         []string
		ExposedPorts                 map[string]struct{}
		Labels                       map[string]string
		Healthcheck                  struct{ Test []string }
	}
}

// TestImageWithIndependentTools checks the image with tools that share no
// code with relkit: oci-image-tool validates the layout against the OCI
// schemas, skopeo reads its configuration, umoci unpacks its root file
// system, and runc runs the entry point as the image says (uid 65534, the
// image's environment only) until the image's own health check gets 200
// from /healthz; SIGTERM stops it with status 0.
func TestImageWithIndependentTools(t *testing.T) {
	t.Parallel()
	dir, _ := buildImages(t)
	layout := filepath.Join(dir, "sample-0.3.0.oci")
	validate := needTool(t, "oci-image-tool")
	if out, err := exec.Command(validate, "validate", "--type", "image", "--ref", "name=0.3.0", layout).CombinedOutput(); err != nil || !strings.Contains(string(out), "Validation succeeded") {
		t.Fatalf("oci-image-tool validate: %v\n%s", err, out)
	}

	skopeo := needTool(t, "skopeo")
	var cfg imageConfig
	decodeJSON(t, run1(t, skopeo, "inspect", "--config", "--raw", "oci:"+layout+":0.3.0"), &cfg)
	c := cfg.Config
	rev, err := exec.Command("git", "-C", moduleRoot, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		want, got string
	}{
		{"platform", runtime.GOOS + "/" + runtime.GOARCH, cfg.OS + "/" + cfg.Architecture},
		{"user", "65534:65534", c.User},
		{"entrypoint and cmd", "/app/bin/sample start", strings.Join(append(append([]string{}, c.Entrypoint...), c.Cmd...), " ")},
		{"working directory", "/app", c.WorkingDir},
		{"health check", "CMD /app/bin/sample health", strings.Join(c.Healthcheck.Test, " ")},
		{"version label", "0.3.0", c.Labels["org.opencontainers.image.version"]},
		{"revision label", strings.TrimSpace(string(rev)), c.Labels["org.opencontainers.image.revision"]},
		{"stop signal", "SIGTERM", c.StopSignal},
	}
	for _, ck := range checks {
		if ck.want != ck.got {
			t.Errorf("image %s: want %q, got %q", ck.what, ck.want, ck.got)
		}
	}
	if _, ok := c.ExposedPorts["4123/tcp"]; !ok {
		t.Errorf("image exposes %v, want the app's port 4123/tcp", c.ExposedPorts)
	}
	var manifest struct {
		Annotations map[string]string
	}
	decodeJSON(t, run1(t, skopeo, "inspect", "--raw", "oci:"+layout+":0.3.0"), &manifest)
	if manifest.Annotations["org.opencontainers.image.revision"] != strings.TrimSpace(string(rev)) {
		t.Errorf("manifest annotations: want the VCS revision, got %v", manifest.Annotations)
	}

	needRoot(t, "unpacking the image with its owners and running it in a container")
	umoci := needTool(t, "umoci")
	bundle := filepath.Join(t.TempDir(), "bundle")
	run1(t, umoci, "unpack", "--image", layout+":0.3.0", bundle)
	rootfs := filepath.Join(bundle, "rootfs")
	for _, p := range []string{"etc/ssl/certs/ca-certificates.crt", "usr/share/zoneinfo.zip", "etc/passwd", "app/releases/0.3.0/release.json"} {
		if info, err := os.Stat(filepath.Join(rootfs, p)); err != nil || info.Size() == 0 {
			t.Errorf("unpacked image: want /%s, got %v", p, err)
		}
	}
	if passwd, _ := os.ReadFile(filepath.Join(rootfs, "etc", "passwd")); !strings.Contains(string(passwd), "nonroot:x:65534:65534:") {
		t.Errorf("/etc/passwd: want the nonroot user 65534, got %q", passwd)
	}

	// The runtime configuration umoci derived from the image, with the
	// process environment reduced to exactly the image's Env (umoci adds
	// PATH and TERM) and no terminal.
	specFile := filepath.Join(bundle, "config.json")
	var spec map[string]any
	b, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatal(err)
	}
	decodeJSON(t, b, &spec)
	proc := spec["process"].(map[string]any)
	if user := proc["user"].(map[string]any); user["uid"].(float64) != 65534 || user["gid"].(float64) != 65534 {
		t.Fatalf("umoci's runtime config: want uid and gid 65534, got %v", user)
	}
	proc["env"] = c.Env
	proc["terminal"] = false
	if b, err = json.Marshal(spec); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(specFile, b, 0o644); err != nil {
		t.Fatal(err)
	}

	runc := needTool(t, "runc")
	id := fmt.Sprintf("relkit-test-%d", os.Getpid())
	ctr := exec.Command(runc, "run", "--bundle", bundle, id)
	// The release logs to stderr; runc passes both streams through.
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer // runc's own messages go to the same pipe
	ctr.Stdout, ctr.Stderr = w, w
	if err := ctr.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	exited := make(chan error, 1)
	t.Cleanup(func() {
		exec.Command(runc, "delete", "--force", id).Run()
	})
	ready := make(chan bool, 1)
	var logs bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if !sent && strings.Contains(sc.Text(), `"msg":"app ready"`) {
				ready <- true
				sent = true
			}
		}
		if !sent {
			ready <- false
		}
		io.Copy(io.Discard, stdout)
		exited <- ctr.Wait()
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("the container exited before the app was ready: %v\n%s%s", <-exited, logs.String(), stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the app in the container was not ready within 60s:\n%s%s", logs.String(), stderr.String())
	}
	// The image's own HEALTHCHECK command: GET /healthz inside the
	// container's network namespace, exit 0 on 200.
	health, err := exec.Command(runc, "exec", id, "/app/bin/sample", "health").CombinedOutput()
	if err != nil || !strings.Contains(string(health), "/healthz: ok") {
		t.Errorf("runc exec %s /app/bin/sample health: want exit 0 and ok, got %v: %s", id, err, health)
	}
	// The app runs as the image's user.
	var state struct{ Pid int }
	decodeJSON(t, run1(t, runc, "state", id), &state)
	if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", state.Pid)); err != nil || !strings.Contains(string(status), "\nUid:\t65534\t65534\t65534\t65534\n") {
		t.Errorf("the container's process %d: want uid 65534, got %v\n%s", state.Pid, err, status)
	}
	run1(t, runc, "kill", id, "TERM")
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM the container exited with %v, want status 0:\n%s%s", err, logs.String(), stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the container did not stop within 60s of SIGTERM:\n%s", logs.String())
	}
}

// TestImageIndexForSeveralTargets: one image index with a manifest per
// -target platform, which skopeo resolves per platform.
func TestImageIndexForSeveralTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the standard library")
	}
	t.Parallel()
	out := t.TempDir()
	mustRelkit(t, "build", "-image", "-target", "linux/amd64,linux/arm64", "-o", out, samplePkg)
	layout := filepath.Join(out, "sample-0.3.0.oci")
	validate := needTool(t, "oci-image-tool")
	if b, err := exec.Command(validate, "validate", "--type", "image", "--ref", "name=0.3.0", layout).CombinedOutput(); err != nil {
		t.Fatalf("oci-image-tool validate: %v\n%s", err, b)
	}
	skopeo := needTool(t, "skopeo")
	var index struct {
		MediaType string
		Manifests []struct {
			Digest   string
			Platform struct{ OS, Architecture string }
		}
	}
	decodeJSON(t, run1(t, skopeo, "inspect", "--raw", "oci:"+layout+":0.3.0"), &index)
	if index.MediaType != "application/vnd.oci.image.index.v1+json" || len(index.Manifests) != 2 {
		t.Fatalf("want an image index of two manifests, got %+v", index)
	}
	for i, arch := range []string{"amd64", "arm64"} {
		m := index.Manifests[i]
		if m.Platform.OS != "linux" || m.Platform.Architecture != arch {
			t.Errorf("manifest %d: want linux/%s, got %+v", i, arch, m.Platform)
		}
		var cfg imageConfig
		decodeJSON(t, run1(t, skopeo, "--override-arch", arch, "inspect", "--config", "--raw", "oci:"+layout+":0.3.0"), &cfg)
		if cfg.Architecture != arch {
			t.Errorf("skopeo --override-arch %s: want that image's config, got %s", arch, cfg.Architecture)
		}
	}
	r := relkit(t, nil, "build", "-image", "-target", "darwin/arm64", "-o", t.TempDir(), samplePkg)
	if r.code != exitUsage || !strings.Contains(r.stderr, "linux targets only") {
		t.Errorf("-image for darwin: want exit 64 saying images are for linux, got %d: %s", r.code, r.stderr)
	}
}
