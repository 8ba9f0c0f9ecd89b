package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit/testdb"
	"github.com/relkit/relkit/runtimeconfig"
)

// run runs the links release in process, as `links ARGS...` with env.
func run(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code = app().Run(ctx, args, append([]string{"LOG_FORMAT=json"}, env...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func sqliteEnv(t *testing.T) []string {
	return []string{"DATABASE_URL=sqlite://" + filepath.Join(t.TempDir(), "links.db")}
}

func TestMigrateAndRollbackCommands(t *testing.T) {
	t.Parallel()
	env := sqliteEnv(t)
	took := regexp.MustCompile(` in [0-9.]+[µm]?s `)
	steps := []struct {
		name     string
		args     []string
		env      []string
		code     int
		stdout   string // exact, after durations become " in T "
		stderr   string // exact unless empty
		stdoutRE string
	}{
		{name: "status before", args: []string{"migrate", "status"}, code: 0, stdout: "VERSION  NAME          STATE  APPLIED AT\n1        create_links  pending\n2        add_clicks    pending\ndatabase version: none (clean), binary's latest: 2, pending: 2\n"},
		{name: "migrate", args: []string{"migrate"}, code: 0, stdout: "Migrated to version 2: applied 2 in T (001_create_links, 002_add_clicks).\n"},
		{name: "migrate again", args: []string{"migrate"}, code: 0, stdout: "Already up to date at version 2.\n"},
		{name: "status after", args: []string{"migrate", "status"}, code: 0,
			stdoutRE: `^VERSION  NAME          STATE    APPLIED AT\n1        create_links  applied  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n2        add_clicks    applied  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\ndatabase version: 2 \(clean\), binary's latest: 2, pending: 0\n$`},
		{name: "rollback one", args: []string{"rollback"}, code: 0, stdout: "Rolled back to version 1: reverted 1 in T (002_add_clicks).\n"},
		{name: "migrate", args: []string{"migrate"}, code: 0, stdout: "Migrated to version 2: applied 1 in T (002_add_clicks).\n"},
		{name: "rollback -to 1", args: []string{"rollback", "-to", "1"}, code: 0, stdout: "Rolled back to version none: reverted 2 in T (002_add_clicks, 001_create_links).\n"},
		{name: "rollback nothing", args: []string{"rollback"}, code: 0, stdout: "Nothing to roll back: the database is at version none.\n"},
		{name: "migrate", args: []string{"migrate"}, code: 0, stdout: "Migrated to version 2: applied 2 in T (001_create_links, 002_add_clicks).\n"},
		{name: "rollback -step 2", args: []string{"rollback", "-step", "2"}, code: 0, stdout: "Rolled back to version none: reverted 2 in T (002_add_clicks, 001_create_links).\n"},
		{name: "migrate", args: []string{"migrate"}, code: 0, stdout: "Migrated to version 2: applied 2 in T (001_create_links, 002_add_clicks).\n"},
		{name: "rollback -all needs -yes", args: []string{"rollback", "-all"}, code: 64,
			stderr: "Error: rollback -all reverts every migration and the data they hold; confirm with -yes\nTry: links rollback -all -yes\n"},
		{name: "rollback -all -yes", args: []string{"rollback", "-all", "-yes"}, code: 0, stdout: "Rolled back to version none: reverted 2 in T (002_add_clicks, 001_create_links).\n"},
		{name: "rollback two selectors", args: []string{"rollback", "-step", "1", "-to", "2"}, code: 64,
			stderr: "Error: give only one of -step, -to and -all\nTry: links rollback -h\n"},
		{name: "rollback -step too many", args: []string{"rollback", "-step", "3"}, code: 1,
			stderr: "Error: migrate: invalid rollback: rollback -step 3: only 0 migrations are applied; nothing was rolled back (revert them all with -all)\n"},
		{name: "rollback -to unknown", args: []string{"rollback", "-to", "9"}, code: 1,
			stderr: "Error: migrate: unknown migration version: rollback to 9: the binary has no migration 9\n"},
		{name: "force needs a version", args: []string{"migrate", "force"}, code: 64,
			stderr: "Error: migrate force needs exactly one VERSION (a migration's version, or none)\nTry: links migrate status   (lists the versions)\n"},
		{name: "force a bad version", args: []string{"migrate", "force", "x"}, code: 64,
			stderr: "Error: migrate force x: VERSION must be a migration's version or none\nTry: links migrate status   (lists the versions)\n"},
		{name: "force", args: []string{"migrate", "force", "1"}, code: 0, stdout: "Database marked clean at version 1. Run links migrate status to check, then links migrate.\n"},
		{name: "force none", args: []string{"migrate", "force", "none"}, code: 0, stdout: "Database marked clean at version none. Run links migrate status to check, then links migrate.\n"},
		{name: "unknown subcommand", args: []string{"migrate", "up"}, code: 64,
			stderr: "Error: unknown migrate command \"up\"\nTry: links migrate -h\n"},
		{name: "unsupported scheme", args: []string{"migrate"}, env: []string{"DATABASE_URL=mongodb://u:s3cret@h/db"}, code: 78,
			stderr: "Error: invalid configuration:\n  DATABASE_URL: database URL scheme \"mongodb\" is not supported: want postgres://, postgresql://, ecto:// (import _ \"github.com/relkit/relkit/migrate/postgres\"), mysql:// (import _ \"github.com/relkit/relkit/migrate/mysql\"), sqlite:// or sqlite3:// (import _ \"github.com/relkit/relkit/migrate/sqlite\")\nTry: links config   (lists every variable, its default and where its value came from)\n"},
		{name: "URL that does not parse", args: []string{"migrate"}, env: []string{"DATABASE_URL=postgres://u:s3cret@h:notaport/db"}, code: 78,
			stderr: "Error: invalid configuration:\n  DATABASE_URL: database URL (postgres://...): the PostgreSQL URL does not parse; want postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable (percent-encode special characters in the password)\nTry: links config   (lists every variable, its default and where its value came from)\n"},
		{name: "bad lock timeout", args: []string{"migrate"}, env: []string{"MIGRATE_LOCK_TIMEOUT=0s"}, code: 78,
			stderr: "Error: invalid configuration:\n  MIGRATE_LOCK_TIMEOUT: want a positive duration such as 1m\nTry: links config   (lists every variable, its default and where its value came from)\n"},
	}
	for _, s := range steps {
		code, stdout, stderr := run(t, append(append([]string{}, env...), s.env...), s.args...)
		stdout = took.ReplaceAllString(stdout, " in T ")
		if code != s.code {
			t.Fatalf("%s: links %s exited %d, want %d\nstdout: %s\nstderr: %s", s.name, strings.Join(s.args, " "), code, s.code, stdout, stderr)
		}
		if s.stdoutRE != "" {
			if !regexp.MustCompile(s.stdoutRE).MatchString(stdout) {
				t.Errorf("%s: stdout\n%s\ndoes not match\n%s", s.name, stdout, s.stdoutRE)
			}
		} else if stdout != s.stdout {
			t.Errorf("%s: stdout\n got %q\nwant %q", s.name, stdout, s.stdout)
		}
		if s.stderr != "" && stderr != s.stderr {
			t.Errorf("%s: stderr\n got %q\nwant %q", s.name, stderr, s.stderr)
		}
		if strings.Contains(stdout+stderr, "s3cret") {
			t.Errorf("%s: the password shows in the output", s.name)
		}
	}
}

// The quick start: `links start` with nothing set creates and migrates
// links.db in its working directory and serves the page. This runs the real
// binary (the test binary re-executed) in an empty directory.
func TestStartWithNoSetup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "start")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), execEnv+"=1", "PORT=0", "LOG_FORMAT=json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	addr := make(chan string, 1)
	var logs strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && strings.HasPrefix(rec.Msg, "HTTP server listening") {
				addr <- rec.Addr
			}
		}
		close(addr)
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(30 * time.Second):
		t.Fatalf("links start did not listen within 30s")
	}
	if a == "" {
		t.Fatalf("links start exited before listening")
	}
	resp, err := http.Get("http://127.0.0.1" + a[strings.LastIndex(a, ":"):] + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "No links yet.") {
		t.Errorf("GET / = %d %s, want the empty page", resp.StatusCode, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("links start exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("links start did not stop within 30s of SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(dir, "links.db")); err != nil {
		t.Errorf("no links.db in the working directory: %v", err)
	}
	for _, want := range []string{`"msg":"applied migration"`, `"name":"create_links"`, `"name":"add_clicks"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("start did not log %s:\n%s", want, logs.String())
		}
	}
}

// the API on every engine.
func TestAPI(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			url := e.New(t)
			if code, _, stderr := run(t, []string{"DATABASE_URL=" + url}, "migrate"); code != 0 {
				t.Fatalf("migrate exited %d: %s", code, stderr)
			}
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			h, err := new(service).handler(ctx, &Config{Base: runtimeconfig.Base{DatabaseURL: url}}, discard())
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			c := srv.Client()
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

			call := func(method, path, body string) (int, string, http.Header) {
				t.Helper()
				req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
				if strings.HasPrefix(body, "{") {
					req.Header.Set("Content-Type", "application/json")
				} else if body != "" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", method, path, err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b), resp.Header
			}

			status, body, _ := call("POST", "/api/links", `{"url": "https://go.dev/doc/", "code": "go"}`)
			var l linkJSON
			if status != 201 || json.Unmarshal([]byte(body), &l) != nil || l.Code != "go" || l.Short != srv.URL+"/go" || l.URL != "https://go.dev/doc/" {
				t.Fatalf("create = %d %s, want 201 with code go", status, body)
			}
			status, body, _ = call("POST", "/api/links", `{"url": "https://example.com/x"}`)
			if status != 201 || json.Unmarshal([]byte(body), &l) != nil || len(l.Code) != 7 {
				t.Fatalf("create with a random code = %d %s", status, body)
			}
			random := l.Code
			tests := []struct {
				name, method, path, body string
				status                   int
				has                      string
			}{
				{"code taken", "POST", "/api/links", `{"url": "https://x.example", "code": "go"}`, 409, `{"error":"that code is taken"}`},
				{"not a URL", "POST", "/api/links", `{"url": "javascript:alert(1)"}`, 400, `is not an http or https URL`},
				{"bad code", "POST", "/api/links", `{"url": "https://x.example", "code": "a b"}`, 400, `code \"a b\": use 1 to 32 letters`},
				{"not JSON", "POST", "/api/links", `url=x`, 400, `want a JSON object`},
				{"redirect", "GET", "/go", "", 302, ""},
				{"redirect again", "GET", "/go", "", 302, ""},
				{"show counts clicks", "GET", "/api/links/go", "", 200, `"clicks":2`},
				{"unknown code", "GET", "/nope", "", 404, "404 page not found"},
				{"unknown code in API", "GET", "/api/links/nope", "", 404, `{"error":"no link with that code"}`},
				{"list", "GET", "/api/links", "", 200, `"code":"` + random + `"`},
				{"page", "GET", "/", "", 200, `<a href="` + srv.URL + `/go">go</a>`},
				{"form", "POST", "/", "url=https%3A%2F%2Fgolang.org&code=golang", 201, `Short link: <a href="` + srv.URL + `/golang">`},
				{"form problem", "POST", "/", "url=nope", 400, `&#34;nope&#34; is not an http or https URL`},
			}
			for _, tt := range tests {
				status, body, hdr := call(tt.method, tt.path, tt.body)
				if status != tt.status || !strings.Contains(body, tt.has) {
					t.Errorf("%s: %s %s = %d %s, want %d containing %s", tt.name, tt.method, tt.path, status, body, tt.status, tt.has)
				}
				if tt.status == 302 && hdr.Get("Location") != "https://go.dev/doc/" {
					t.Errorf("%s: Location %q, want https://go.dev/doc/", tt.name, hdr.Get("Location"))
				}
			}
		})
	}
}

func TestImportTask(t *testing.T) {
	t.Parallel()
	env := sqliteEnv(t)
	if code, _, stderr := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	file := filepath.Join(t.TempDir(), "links.txt")
	os.WriteFile(file, []byte("# my links\nhttps://a.example/\n\ndocs https://go.dev/doc\ndocs https://dup.example\n"), 0o644)
	code, stdout, stderr := run(t, env, "eval", "import", file)
	if code != 0 || stdout != "Imported 2 links; skipped 1 whose code was taken.\n" {
		t.Fatalf("import = %d %q %s", code, stdout, stderr)
	}
	os.WriteFile(file, []byte("https://b.example/\nftp://x\n"), 0o644)
	code, _, stderr = run(t, env, "eval", "import", file)
	if want := "Error: task import: line 2: \"ftp://x\" is not an http or https URL (imported 1 before it)\n"; code != 1 || stderr != want {
		t.Errorf("import of a bad line = %d %q, want 1 %q", code, stderr, want)
	}
	code, _, stderr = run(t, env, "eval", "import")
	if want := "Error: import needs one FILE (- for stdin)\nTry: links eval import FILE\n"; code != 64 || stderr != want {
		t.Errorf("import without FILE = %d %q, want 64 %q", code, stderr, want)
	}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// execEnv makes the test binary run links' main (see TestMain).
const execEnv = "RELKIT_LINKS_EXEC"

func TestMain(m *testing.M) {
	if os.Getenv(execEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestHandoffCarriesTheCounters: what one release exports, the next one
// adds to its own counters; a format it does not know is ignored.
func TestHandoffCarriesTheCounters(t *testing.T) {
	t.Parallel()
	old := &service{}
	old.created.Store(3)
	old.redirects.Store(40)
	data, err := old.handoff().Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	next := &service{}
	next.redirects.Store(1) // a request served before the import
	h := next.handoff()
	if err := h.Import(context.Background(), h.Format, data); err != nil {
		t.Fatal(err)
	}
	if c, r := next.created.Load(), next.redirects.Load(); c != 3 || r != 41 {
		t.Errorf("after the import: want created 3, redirects 41, got %d, %d", c, r)
	}
	if err := h.Import(context.Background(), 2, []byte("something newer")); err != nil || next.created.Load() != 3 {
		t.Errorf("unknown format: want it ignored, got %v (created %d)", err, next.created.Load())
	}
	if err := h.Import(context.Background(), 1, []byte("{")); err == nil {
		t.Errorf("damaged state: want an error")
	}
}
