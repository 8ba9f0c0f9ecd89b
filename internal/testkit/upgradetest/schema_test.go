package upgradetest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit/loadgen"
	"github.com/relkit/relkit/internal/testkit/testdb"
)

var (
	// linksV2Note is links 2.0.0 (migration 003 adds links.note) whose
	// code uses the new column: a visit writes it, and the API reads it.
	linksV2Note = &build{version: "2.0.0", src: func() (string, error) {
		return linksPatched([]edit{
			{"store.go", "Clicks  int64     `json:\"clicks\"`", "Clicks  int64     `json:\"clicks\"`\n\tNote    string    `json:\"note\"`"},
			{"store.go", `"SELECT code, url, clicks, created_unix FROM links WHERE code = ?"), code).
		Scan(&l.Code, &l.URL, &l.Clicks, &created)`, `"SELECT code, url, clicks, COALESCE(note, ''), created_unix FROM links WHERE code = ?"), code).
		Scan(&l.Code, &l.URL, &l.Clicks, &l.Note, &created)`},
			{"store.go", `s.q("UPDATE links SET clicks = clicks + 1 WHERE code = ?"), code)`, `s.q("UPDATE links SET clicks = clicks + 1, note = ? WHERE code = ?"), "visited on 2.0.0", code)`},
		})
	}}
	// linksV2NotReady is links 2.0.0 with migration 003 whose readiness
	// check never passes: its upgrade migrates, then fails to switch.
	linksV2NotReady = &build{version: "2.0.0", src: func() (string, error) {
		return linksPatched([]edit{
			{"handler.go", "return svc.store.db.PingContext(ctx)", "return errors.New(\"2.0.0 is never ready\")"},
		})
	}}
)

// edit replaces old, which must be there, with new in file.
type edit struct{ file, old, new string }

// linksPatched is linksNextVersion with edits made.
func linksPatched(edits []edit) (string, error) {
	dir, err := linksNextVersion()
	if err != nil {
		return "", err
	}
	for _, e := range edits {
		p := filepath.Join(dir, e.file)
		b, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		if !strings.Contains(string(b), e.old) {
			return "", fmt.Errorf("examples/links/%s changed: no %q to replace", e.file, e.old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), e.old, e.new, 1)), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// linksSystem installs links 1.0.0 on db (a DATABASE_URL), migrates it with
// MIGRATE_ON_START=false (upgrade, not the new release's boot, must
// migrate), starts it and creates the link docs, which points back at the
// app's own API, so that following it reads the table again on loopback.
func linksSystem(t *testing.T, db string) *system {
	t.Helper()
	s := install(t, "links", linksV1.get(t))
	s.env = append(s.env, "DATABASE_URL="+db, "MIGRATE_ON_START=false")
	s.mustRun("migrate")
	s.start()
	body := fmt.Sprintf(`{"url": "http://127.0.0.1:%d/api/links/docs", "code": "docs"}`, s.port)
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/api/links", s.port), "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create a link: %v %v", resp, err)
	}
	resp.Body.Close()
	return s
}

// visits loads GET /docs, which counts a click (UPDATE links) and
// redirects to /api/links/docs (SELECT), with keep-alive and
// per-connection clients.
type visits struct {
	t    *testing.T
	load *loadgen.Run
}

func startVisits(t *testing.T, s *system) *visits {
	return &visits{t: t, load: loadgen.Start(loadgen.Options{
		URL: fmt.Sprintf("http://127.0.0.1:%d/docs", s.port), KeepAlive: 3, PerRequest: 2, Method: http.MethodGet, Limit: 5 * time.Minute,
		Check: func(status int, body []byte) error {
			if status != http.StatusOK || !strings.Contains(string(body), `"code":"docs"`) {
				return fmt.Errorf("status %d: %.100s", status, body)
			}
			return nil
		},
	})}
}

// wait waits for n more successful visits.
func (v *visits) wait(n int64) {
	v.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for want := v.load.OK() + n; v.load.OK() < want; {
		if time.Now().After(deadline) {
			res := v.load.Stop()
			v.t.Fatalf("the load made no progress: %d ok, %d failed: %q", res.OK, res.Failed, res.Errors[:min(3, len(res.Errors))])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop stops the load and fails the test unless every request succeeded.
func (v *visits) stop(when string) {
	v.t.Helper()
	res := v.load.Stop()
	if res.Failed != 0 || res.Refused != 0 || res.OK == 0 {
		v.t.Errorf("load %s: want 0 failed and 0 refused, got %d ok, %d failed, %d refused: %q", when, res.OK, res.Failed, res.Refused, res.Errors)
	}
	v.t.Logf("load %s: %d requests ok, %d failed, %d refused", when, res.OK, res.Failed, res.Refused)
}

// TestLinksSchemaRoundTrip, on SQLite, PostgreSQL and MariaDB: links 1.0.0
// serves under load on a route that writes and reads the links table;
// upgrade 2.0.0 migrates with 2.0.0's binary (003 adds the column 2.0.0
// writes and reads), then switches; a rollback of 003 while 2.0.0 runs is
// refused; downgrade 1.0.0 -rollback switches back, then reverts 003 with
// 2.0.0's down file. No request fails, the schema ends at 2 and 1.0.0 is
// permanent.
func TestLinksSchemaRoundTrip(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			v2 := linksV2Note.get(t)
			s := linksSystem(t, e.New(t))
			load := startVisits(t, s)
			load.wait(50)

			s.put("2.0.0", v2)
			out := s.mustRun("upgrade", "2.0.0")
			for _, want := range []string{"Migrated database to version 3\n", "Made release 2.0.0 permanent\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("upgrade 2.0.0: want %q in its output, got\n%s", want, out)
				}
			}
			if i, j := strings.Index(out, "Migrated database"), strings.Index(out, "Installed release"); i < 0 || j < i {
				t.Errorf("upgrade 2.0.0: want the migration before the switch, got\n%s", out)
			}
			load.wait(50)
			if body := s.body("/api/links/docs"); !strings.Contains(body, `"note":"visited on 2.0.0"`) {
				t.Errorf("2.0.0 serves, but the column it writes and reads does not show: %s", body)
			}

			// The way back the README used to give: revert 003 while 2.0.0,
			// which reads it, serves.
			for _, args := range [][]string{{"rollback", "-to", "3"}, {"rollback"}} {
				code, stdout, stderr := s.run(args...)
				want := "Error: this rollback reverts migration 3, which the running release 2.0.0 needs (its newest migration is 3): it would serve on a schema older than its code. To go back to an older release, switch first and revert after with links downgrade VSN -rollback\n" +
					"Try: links " + strings.Join(args, " ") + " -yes   (revert anyway)\n"
				if code != 64 || stdout != "" || stderr != want {
					t.Errorf("%s while 2.0.0 runs: want exit 64 and\n%s\ngot %d %q\n%s", strings.Join(args, " "), want, code, stdout, stderr)
				}
			}
			if st := s.mustRun("migrate", "status"); !strings.Contains(st, "database version: 3 (clean)") {
				t.Errorf("migrate status after the refused rollbacks: want the database still at version 3, got\n%s", st)
			}

			out = s.mustRun("downgrade", "1.0.0", "-rollback")
			for _, want := range []string{"Made release 1.0.0 permanent\n", "Reverting migration 3 with release 2.0.0\n", "Rolled back database to version 2\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("downgrade 1.0.0 -rollback: want %q in its output, got\n%s", want, out)
				}
			}
			if i, j := strings.Index(out, "Made release 1.0.0 permanent"), strings.Index(out, "Reverting migration 3"); i < 0 || j < i {
				t.Errorf("downgrade -rollback: want the switch before the revert, got\n%s", out)
			}
			load.wait(50)
			load.stop("through upgrade and downgrade")
			if st := s.mustRun("migrate", "status"); !strings.Contains(st, "database version: 2 (clean)") {
				t.Errorf("migrate status after the downgrade: want the database at version 2, got\n%s", st)
			}
			if want, got := []string{"1.0.0 permanent", "2.0.0 old"}, s.stateLines(); !slices.Equal(want, got) {
				t.Errorf("RELEASES: want %q, got %q", want, got)
			}
		})
	}
}

// TestFailedUpgradeLeavesTheOldReleaseOnTheNewerSchema, on SQLite,
// PostgreSQL and MariaDB: upgrade 2.0.0
// migrates (003), then 2.0.0 never becomes ready, so the switch fails and
// 1.0.0 keeps serving, under load, on the newer schema. A crash of 1.0.0
// afterwards (kill -9 of the app process) is restarted by the
// supervisor's heart, and the restarted 1.0.0 boots on that schema and
// serves: it is allowed to, since the upgrade that migrated had it keep
// serving on it.
func TestFailedUpgradeLeavesTheOldReleaseOnTheNewerSchema(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			failedUpgradeThenCrash(t, e.New(t))
		})
	}
}

func failedUpgradeThenCrash(t *testing.T, db string) {
	v2 := linksV2NotReady.get(t)
	s := linksSystem(t, db)
	s.env = append(s.env, "UPGRADE_TIMEOUT=5s")
	load := startVisits(t, s)
	load.wait(50)

	s.put("2.0.0", v2)
	code, stdout, stderr := s.run("upgrade", "2.0.0")
	if code != 1 || !strings.Contains(stdout, "Migrated database to version 3\n") || strings.Contains(stdout, "Made release 2.0.0 permanent") {
		t.Fatalf("upgrade to a 2.0.0 that is never ready: want exit 1 after migrating, got %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	load.wait(50)
	load.stop("through the failed upgrade")
	if st := s.mustRun("migrate", "status"); !strings.Contains(st, "database version: 3 (clean)") {
		t.Errorf("migrate status after the failed upgrade: want the database at version 3, got\n%s", st)
	}
	// Its migrations ran, so 2.0.0 stays unpacked: its down files are the
	// way back, and the message gives the command.
	if !strings.Contains(stderr, "Kept release 2.0.0 unpacked") || !strings.Contains(stderr, "releases/2.0.0/links rollback -to 3 -yes") {
		t.Errorf("a failed upgrade after its migrations: want it to keep 2.0.0 and name the revert, got\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(s.root, "releases", "2.0.0", "links")); err != nil {
		t.Errorf("a failed upgrade after its migrations removed the release that holds their down files: %v", err)
	}
	// The operator prunes it: 1.0.0 may still boot on the newer schema, by
	// releases/SCHEMA.
	s.mustRun("releases", "prune", "-keep", "0")
	if _, err := os.Stat(filepath.Join(s.root, "releases", "2.0.0")); !os.IsNotExist(err) {
		t.Fatalf("releases prune -keep 0 left releases/2.0.0 (%v)", err)
	}

	apps := children(s.pid())
	if len(apps) != 1 {
		t.Fatalf("want one app process under the supervisor, got %v", apps)
	}
	if err := syscall.Kill(apps[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		now := children(s.pid())
		if len(now) == 1 && now[0] != apps[0] {
			if code, body, err := s.get("/api/links/docs"); err == nil && code == http.StatusOK && strings.Contains(body, `"code":"docs"`) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("1.0.0 was not restarted on the newer schema within 30s of its crash; log:\n%s", s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	load = startVisits(t, s)
	load.wait(50)
	load.stop("after the restart")
	if strings.Contains(s.logs.String(), "refusing to start") {
		t.Errorf("a generation refused to start on the newer schema; log:\n%s", s.logs)
	}
	s.waitLog("starting on a database migrated by release 2.0.0, whose upgrade migrated it while this release served (releases/SCHEMA)")
	if got := s.readFile("releases/SCHEMA"); !strings.HasSuffix(got, "\t1.0.0\t3\t2.0.0\n") {
		t.Errorf("releases/SCHEMA: want a line saying 1.0.0 served while 2.0.0 migrated to 3, got %q", got)
	}
}
