package upgradetest

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit/loadgen"
)

// TestLinksSchemaRoundTrip: links 1.0.0 serves under load (keep-alive and
// per-connection clients on a route that reads the links table);
// upgrade 2.0.0 migrates with 2.0.0's binary, then switches; downgrade
// 1.0.0 -rollback switches back, then reverts migration 3 with 2.0.0's
// down file. No request fails, the schema ends at 2 and 1.0.0 is permanent.
func TestLinksSchemaRoundTrip(t *testing.T) {
	t.Parallel()
	v1, v2 := linksV1.get(t), linksV2.get(t)
	s := install(t, "links", v1)
	// MIGRATE_ON_START=false: upgrade, not the new release's boot, migrates.
	s.env = append(s.env, "DATABASE_URL=sqlite://"+filepath.Join(s.root, "links.db"), "MIGRATE_ON_START=false")
	s.mustRun("migrate")
	s.start()
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/api/links", s.port), "application/json", strings.NewReader(`{"url": "https://example.com/docs", "code": "docs"}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create a link: %v %v", resp, err)
	}
	resp.Body.Close()
	load := loadgen.Start(loadgen.Options{
		URL: fmt.Sprintf("http://127.0.0.1:%d/api/links/docs", s.port), KeepAlive: 4, PerRequest: 2, Method: http.MethodGet, Limit: 5 * time.Minute,
		Check: func(status int, _ []byte) error {
			if status != http.StatusOK {
				return fmt.Errorf("status %d", status)
			}
			return nil
		},
	})
	waitOK := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for want := load.OK() + n; load.OK() < want; {
			if time.Now().After(deadline) {
				res := load.Stop()
				t.Fatalf("the load made no progress: %d ok, %d failed: %q", res.OK, res.Failed, res.Errors[:min(3, len(res.Errors))])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitOK(50)

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
	waitOK(50)

	out = s.mustRun("downgrade", "1.0.0", "-rollback")
	for _, want := range []string{"Made release 1.0.0 permanent\n", "Reverting migration 3 with release 2.0.0\n", "Rolled back database to version 2\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("downgrade 1.0.0 -rollback: want %q in its output, got\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "Made release 1.0.0 permanent"), strings.Index(out, "Reverting migration 3"); i < 0 || j < i {
		t.Errorf("downgrade -rollback: want the switch before the revert, got\n%s", out)
	}
	waitOK(50)
	res := load.Stop()
	if res.Failed != 0 || res.Refused != 0 || res.OK == 0 {
		t.Errorf("load through upgrade and downgrade: want 0 failed and 0 refused, got %d ok, %d failed, %d refused: %q", res.OK, res.Failed, res.Refused, res.Errors)
	}
	t.Logf("load: %d requests ok, %d failed, %d refused", res.OK, res.Failed, res.Refused)
	if st := s.mustRun("migrate", "status"); !strings.Contains(st, "database version: 2 (clean)") {
		t.Errorf("migrate status after the downgrade: want the database at version 2, got\n%s", st)
	}
	if want, got := []string{"1.0.0 permanent", "2.0.0 old"}, s.stateLines(); !slices.Equal(want, got) {
		t.Errorf("RELEASES: want %q, got %q", want, got)
	}
}
