package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
)

// TestUnpackedReleaseRunsFromAnywhere unpacks the tarball into a fresh
// directory and runs the release through a symlink placed elsewhere, from a
// third working directory: it must find its own root, its overlays and
// serve HTTP.
func TestUnpackedReleaseRunsFromAnywhere(t *testing.T) {
	t.Parallel()
	out := buildOnce(t, &sampleBuild)
	install := untar(t, filepath.Join(out, "sample-0.3.0-"+runtime.GOOS+"-"+runtime.GOARCH+".tar.gz"))
	install, _ = filepath.EvalSymlinks(install)
	link := filepath.Join(t.TempDir(), "sample")
	if err := os.Symlink(filepath.Join(install, "bin", "sample"), link); err != nil {
		t.Fatal(err)
	}
	cwd := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "LOG_FORMAT=json"}

	runRelease := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, link, args...)
		cmd.Dir, cmd.Env = cwd, env
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sample %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	if got, want := runRelease("version"), "sample 0.3.0\n"; got != want {
		t.Errorf("version: want %q, got %q", want, got)
	}
	if got, want := runRelease("eval", "root"), install+" true\n"; got != want {
		t.Errorf("root seen by the release started through %s from %s: want %q, got %q", link, cwd, want, got)
	}
	if got, want := runRelease("eval", "motd"), "Welcome to sample.\n"; got != want {
		t.Errorf("overlay etc/motd.txt read from the root: want %q, got %q", want, got)
	}

	// start with SERVER=true serves, and SIGTERM stops it cleanly.
	port := testkit.FreePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, link, "start")
	cmd.Dir = cwd
	cmd.Env = append(env, "SERVER=true", fmt.Sprintf("PORT=%d", port))
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	body := getWhenUp(t, fmt.Sprintf("http://127.0.0.1:%d/", port), 20*time.Second)
	if body != "sample 0.3.0\n" {
		t.Errorf("GET /: want %q, got %q", "sample 0.3.0\n", body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("start after SIGTERM: want exit 0, got %v\n%s", err, logs.String())
	}
}

// getWhenUp polls url until it answers 200 or the timeout passes.
func getWhenUp(t *testing.T, url string, timeout time.Duration) string {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b)
			}
			lastErr = fmt.Errorf("status %d", resp.StatusCode)
		} else {
			lastErr = err
		}
		<-tick.C
	}
	t.Fatalf("GET %s: not up within %v: %v", url, timeout, lastErr)
	return ""
}
