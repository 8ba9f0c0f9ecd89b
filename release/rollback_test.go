package release_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
	"github.com/relkit/relkit/internal/testkit/testdb"
)

// TestRollbackRefusesWhatTheRunningReleaseNeeds: while shop 1.0.0, whose
// newest migration is 2, runs, a rollback that reverts 2 (the default,
// -step 1, -to 2, -to 1) is refused with exit 64, naming the release and
// the migration, and changes nothing; -yes reverts. With nothing running
// there is nothing to protect.
func TestRollbackRefusesWhatTheRunningReleaseNeeds(t *testing.T) {
	t.Parallel()
	env := append([]string{"LOG_FORMAT=json", "PORT=0", "DATABASE_URL=" + testdb.SQLite(t)}, runtimeDirs(t)...)
	app := shop(shopFiles("002_create_tags.up.sql", "CREATE TABLE tags (id INTEGER);", "002_create_tags.down.sql", "DROP TABLE tags;"))
	run := func(args ...string) (int, string, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var out, errb bytes.Buffer
		code := app.Run(ctx, args, env, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, stderr := run("migrate"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}

	ctx, stop := context.WithCancel(context.Background())
	logs := &testkit.Buffer{}
	done := make(chan int, 1)
	go func() { done <- app.Run(ctx, []string{"start"}, env, strings.NewReader(""), &bytes.Buffer{}, logs) }()
	waitLog(t, logs, "HTTP server listening")

	for _, args := range [][]string{{"rollback"}, {"rollback", "-step", "1"}, {"rollback", "-to", "2"}, {"rollback", "-to", "1"}, {"rollback", "-step", "2"}} {
		code, stdout, stderr := run(args...)
		what := "migration 2"
		if len(args) == 3 && (args[2] == "1" && args[1] == "-to" || args[2] == "2" && args[1] == "-step") {
			what = "migrations 1, 2"
		}
		want := "Error: this rollback reverts " + what + ", which the running release 1.0.0 needs (its newest migration is 2): it would serve on a schema older than its code. To go back to an older release, switch first and revert after with shop downgrade VSN -rollback\n" +
			"Try: shop " + strings.Join(args, " ") + " -yes   (revert anyway)\n"
		if code != 64 || stdout != "" || stderr != want {
			t.Errorf("%s while 1.0.0 runs: want exit 64 and\n%s\ngot %d %q\n%s", strings.Join(args, " "), want, code, stdout, stderr)
		}
	}
	if code, stdout, stderr := run("rollback", "-yes"); code != 0 || !strings.HasPrefix(stdout, "Rolled back to version 1: reverted 1") {
		t.Errorf("rollback -yes while 1.0.0 runs: want migration 2 reverted (none before), got %d %q %s", code, stdout, stderr)
	}

	stop()
	if code := <-done; code != 0 {
		t.Fatalf("start exited %d after cancel; logs:\n%s", code, logs)
	}
	if code, stdout, stderr := run("rollback"); code != 0 || !strings.HasPrefix(stdout, "Rolled back to version none: reverted 1") {
		t.Errorf("rollback with nothing running: want migration 1 reverted, got %d %q %s", code, stdout, stderr)
	}
}
