package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
)

// sourceDateEpoch fixes the build time of every release the tests build.
const sourceDateEpoch = "1700000000"

// moduleRoot is the relkit module's root, two levels above this package.
var moduleRoot = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}()

// testEnv is the process environment as a map, with overrides.
func testEnv(overrides ...string) map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	env["SOURCE_DATE_EPOCH"] = sourceDateEpoch
	for _, kv := range overrides {
		k, v, _ := strings.Cut(kv, "=")
		if v == "" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	return env
}

type result struct {
	code           int
	stdout, stderr string
}

// relkit runs the command line in process from the module root.
func relkit(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if env == nil {
		env = testEnv()
	}
	var stdout, stderr bytes.Buffer
	code := run(ctx, moduleRoot, args, env, strings.NewReader(""), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// mustRelkit runs relkit and fails the test unless it exits 0.
func mustRelkit(t *testing.T, args ...string) result {
	t.Helper()
	if testing.Short() {
		t.Skipf("end-to-end: relkit %s builds the app with the go command; skipped with -short", args[0])
	}
	r := relkit(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("relkit %s: want exit 0, got %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

const samplePkg = "./cmd/relkit/testdata/sample"

// built is one relkit build of the sample app, shared by the tests of this
// package: Go builds are slow, so each distinct build runs once.
type built struct {
	once sync.Once
	out  string
	res  result
}

var sampleBuild, sampleRebuild built

var sharedDirs struct {
	mu   sync.Mutex
	dirs []string
}

// buildOnce runs `relkit build -tar -o DIR samplePkg` once for b.
func buildOnce(t *testing.T, b *built) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds a release with the go command; skipped with -short")
	}
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "relkit-test-")
		if err != nil {
			t.Fatal(err)
		}
		sharedDirs.mu.Lock()
		sharedDirs.dirs = append(sharedDirs.dirs, dir)
		sharedDirs.mu.Unlock()
		b.out = dir
		b.res = relkit(t, nil, "build", "-tar", "-o", dir, samplePkg)
	})
	if b.res.code != 0 {
		t.Fatalf("relkit build -tar %s: want exit 0, got %d\nstdout: %s\nstderr: %s", samplePkg, b.res.code, b.res.stdout, b.res.stderr)
	}
	return b.out
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range sharedDirs.dirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// needTool skips when a system tool is missing, except under CI=true,
// where it fails.
func needTool(t *testing.T, name string) string {
	t.Helper()
	pkg := name
	if strings.HasPrefix(name, "systemd-") {
		pkg = "systemd"
	}
	return testkit.LookPath(t, name, pkg)
}

// untar unpacks a tarball with the system's tar into a new directory.
func untar(t *testing.T, tarball string) string {
	t.Helper()
	needTool(t, "tar")
	dest := t.TempDir()
	if out, err := exec.Command("tar", "-xzf", tarball, "-C", dest).CombinedOutput(); err != nil {
		t.Fatalf("tar -xzf %s: %v\n%s", tarball, err, out)
	}
	return dest
}
