package upgradetest

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relkit/relkit/internal/testkit"
)

var (
	linksV1 = &build{pkg: "./examples/links", version: "1.0.0"}
	// linksV2 is the next version of examples/links as its developer ships
	// it: the source copied into a checkout of its own (its own module,
	// requiring relkit), with one more migration.
	linksV2 = &build{version: "2.0.0", src: linksNextVersion}
)

// linksNextVersion copies examples/links into a new module and adds
// migration 003.
func linksNextVersion() (string, error) {
	dir, err := os.MkdirTemp("", "links-v2-")
	if err != nil {
		return "", err
	}
	tmpDirs.Lock()
	tmpDirs.dirs = append(tmpDirs.dirs, dir)
	tmpDirs.Unlock()
	src := filepath.Join(moduleRoot, "examples", "links")
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		return "", err
	}
	files := map[string]string{
		"migrations/003_add_note.up.sql":   "ALTER TABLE links ADD COLUMN note TEXT;\n",
		"migrations/003_add_note.down.sql": "ALTER TABLE links DROP COLUMN note;\n",
	}
	mod, err := os.ReadFile(filepath.Join(moduleRoot, "go.mod"))
	if err != nil {
		return "", err
	}
	_, requires, _ := strings.Cut(string(mod), "\nrequire")
	files["go.mod"] = "module example.com/links\n\ngo 1.26.0\n\n" +
		"require github.com/relkit/relkit v0.0.0-00010101000000-000000000000\n\n" +
		"replace github.com/relkit/relkit => " + moduleRoot + "\n\nrequire" + requires
	sum, err := os.ReadFile(filepath.Join(moduleRoot, "go.sum"))
	if err != nil {
		return "", err
	}
	files["go.sum"] = string(sum)
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// TestLinks upgrades examples/links 1.0.0 (SQLite, migrations 1 and 2) to
// 2.0.0 (migration 3 added), which migrates the database at its boot
// (MIGRATE_ON_START, links' default) and takes over the in-memory
// counters; the downgrade back is refused until the database is rolled
// back with the command it prints, then succeeds.
func TestLinks(t *testing.T) {
	t.Parallel()
	v1, v2 := linksV1.get(t), linksV2.get(t)
	s := install(t, "links", v1)
	s.env = append(s.env, "DATABASE_URL=sqlite://"+filepath.Join(s.root, "links.db"))
	s.start()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Post(fmt.Sprintf("http://127.0.0.1:%d/api/links", s.port), "application/json", strings.NewReader(`{"url": "https://example.com/docs", "code": "docs"}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create a link: %v %v", resp, err)
	}
	resp.Body.Close()
	follow := func(when string) {
		t.Helper()
		resp, err := noRedirect.Get(fmt.Sprintf("http://127.0.0.1:%d/docs", s.port))
		if err != nil || resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.com/docs" {
			t.Fatalf("%s: GET /docs: want a redirect to https://example.com/docs, got %v %v", when, resp, err)
		}
		resp.Body.Close()
	}
	follow("1.0.0")
	follow("1.0.0")
	if want, got := "links created: 1\nredirects: 2\n", s.mustRun("rpc", "stats"); want != got {
		t.Errorf("rpc stats on 1.0.0: want %q, got %q", want, got)
	}

	s.put("2.0.0", v2)
	s.mustRun("upgrade", "2.0.0")
	follow("2.0.0")
	if want, got := "links created: 1\nredirects: 3\n", s.mustRun("rpc", "stats"); want != got {
		t.Errorf("rpc stats after the upgrade: want the counters carried over, %q, got %q", want, got)
	}
	if !strings.Contains(s.mustRun("migrate", "status"), "3") {
		t.Errorf("migrate status after the upgrade: want migration 3 applied")
	}

	before := s.snapshot()
	code, stdout, stderr := s.run("downgrade", "1.0.0")
	want := "Error: the database's schema is at version 3, newer than release 1.0.0 knows (its newest migration is 2); links downgrade 1.0.0 -rollback switches to 1.0.0, then reverts the newer migrations with the running release's down files\n"
	if code != 1 || stdout != "" || stderr != want {
		t.Errorf("downgrade below the database's schema: want exit 1 and\n%s\ngot %d %q\n%s", want, code, stdout, stderr)
	}
	if d := testkit.Diff(before, s.snapshot()); d != "" {
		t.Errorf("the refused downgrade changed the root:\n%s", d)
	}
	if got := s.mustRun("rollback", "-to", "3", "-yes"); !strings.HasPrefix(got, "Rolled back to version 2: reverted 1") {
		t.Errorf("rollback -to 3 -yes: got %q", got)
	}
	if want, got := "Installed release 1.0.0\nMade release 1.0.0 permanent\n", s.mustRun("downgrade", "1.0.0"); want != got {
		t.Errorf("downgrade after the rollback: want %q, got %q", want, got)
	}
	follow("1.0.0 again")
	if want, got := "links created: 1\nredirects: 4\n", s.mustRun("rpc", "stats"); want != got {
		t.Errorf("rpc stats after the downgrade: want %q, got %q", want, got)
	}
	if want, got := []string{"1.0.0 permanent", "2.0.0 old"}, s.stateLines(); !slices.Equal(want, got) {
		t.Errorf("RELEASES: want %q, got %q", want, got)
	}
	if _, err := os.Stat(filepath.Join(s.root, "links.db")); errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the SQLite database must be where DATABASE_URL says")
	}
}
