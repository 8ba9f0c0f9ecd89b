package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// git runs git in dir and returns its trimmed output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=relkit test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestVerify: relkit verify rebuilds a release from its commit and says
// "identical"; a file that changed in the checkout (an overlay git
// ignores, so the checkout still counts as clean) is named; a checkout
// with changes, or at another commit, is refused with what to do.
func TestVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds a release three times with the go command; skipped with -short")
	}
	t.Parallel()
	needTool(t, "git")
	app := newcomerModule(t)
	motd := filepath.Join(app, "rel", "overlays", "etc", "motd.txt")
	if err := os.MkdirAll(filepath.Dir(motd), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(motd, []byte("welcome\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, ".gitignore"), []byte("/rel/overlays/etc/motd.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, app, "init", "-q")
	git(t, app, "add", "-A")
	git(t, app, "commit", "-q", "-m", "notes")
	rev := git(t, app, "rev-parse", "HEAD")

	relkitIn := func(args ...string) result {
		t.Helper()
		var stdout, stderr strings.Builder
		code := run(t.Context(), app, args, testEnv(), strings.NewReader(""), &stdout, &stderr)
		return result{code, stdout.String(), stderr.String()}
	}
	out := t.TempDir()
	if r := relkitIn("build", "-tar", "-o", out, "."); r.code != 0 {
		t.Fatalf("build -tar: exit %d\n%s", r.code, r.stderr)
	}
	tarballs, _ := filepath.Glob(filepath.Join(out, "*.tar.gz"))
	if len(tarballs) != 1 {
		t.Fatalf("want one tarball, got %v", tarballs)
	}
	tarball := tarballs[0]

	if r := relkitIn("verify", tarball); r.code != 0 || !strings.Contains(r.stdout, "identical") || !strings.Contains(r.stdout, rev) {
		t.Fatalf("verify of a clean rebuild: want exit 0 saying identical and naming %s, got %d\nstdout: %s\nstderr: %s", rev, r.code, r.stdout, r.stderr)
	}

	if err := os.WriteFile(motd, []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := relkitIn("verify", tarball)
	if want := "first differing file etc/motd.txt (content:"; r.code != exitFailure || !strings.Contains(r.stderr, want) {
		t.Fatalf("verify after changing etc/motd.txt: want exit 1 with %q, got %d\nstdout: %s\nstderr: %s", want, r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "releases/1.4.0/release.json") {
		t.Errorf("verify after changing etc/motd.txt: want the release.json that lists its checksum named as differing too, got %s", r.stderr)
	}

	// A dirty checkout is refused before anything is built.
	if err := os.WriteFile(filepath.Join(app, "scratch.txt"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := relkitIn("verify", tarball); r.code != exitFailure || !strings.Contains(r.stderr, "untracked changes") || !strings.Contains(r.stderr, "git stash -u") {
		t.Errorf("verify in a dirty checkout: want exit 1 naming the changes and git stash -u, got %d: %s", r.code, r.stderr)
	}
	// Another commit is refused, naming both.
	git(t, app, "add", "scratch.txt")
	git(t, app, "commit", "-q", "-m", "scratch")
	head := git(t, app, "rev-parse", "HEAD")
	if r := relkitIn("verify", tarball); r.code != exitFailure || !strings.Contains(r.stderr, "the checkout is at commit "+head) || !strings.Contains(r.stderr, "built from "+rev) || !strings.Contains(r.stderr, "git worktree add") {
		t.Errorf("verify at another commit: want exit 1 naming %s and %s, got %d: %s", head, rev, r.code, r.stderr)
	}
	if r := relkitIn("verify"); r.code != exitUsage {
		t.Errorf("verify without a tarball: want exit 64, got %d: %s", r.code, r.stderr)
	}
}
