// Package releasetest helps applications test their release: run commands
// and tasks in process with a hermetic environment, and check an App
// against the contract every release should meet, the way testing/slogtest
// checks a slog.Handler.
//
//	func TestRelease(t *testing.T) {
//		releasetest.Check(t, app(), map[string]string{"API_KEY": "test"})
//		res := releasetest.Run(t, app(), nil, "eval", "greet", "Ada")
//		if res.Stdout != "Hello, Ada!\n" { ... }
//	}
package releasetest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/relspec"

	"github.com/relkit/relkit/release"
)

// Result is what one command did.
type Result struct {
	Code   int
	Stdout string
	Stderr string
}

// Timeout bounds every command Run runs.
const Timeout = 30 * time.Second

// Run runs the command line args of app in process with exactly env as its
// environment (nothing is inherited from the test process) and returns what
// it printed and its exit code. Logs are JSON unless env sets LOG_FORMAT.
// Unless env sets them, RELEASE_TMP and RELEASE_LOG_DIR point into a
// directory of the test's own, so a started release's control socket, lock
// and logs neither land in the package directory nor collide with another
// test's.
func Run[C any](t testing.TB, app release.App[C], env map[string]string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	environ := []string{"LOG_FORMAT=json"}
	if env[relspec.EnvTmp] == "" || env[relspec.EnvLogDir] == "" {
		// Short: Unix socket paths are limited to 107 bytes.
		dir, err := os.MkdirTemp("", "rt")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if env[relspec.EnvTmp] == "" {
			environ = append(environ, "RELEASE_TMP="+dir+"/tmp")
		}
		if env[relspec.EnvLogDir] == "" {
			environ = append(environ, "RELEASE_LOG_DIR="+dir+"/log")
		}
	}
	for _, k := range sortedKeys(env) {
		environ = append(environ, k+"="+env[k])
	}
	var stdout, stderr bytes.Buffer
	code := app.Run(ctx, args, environ, strings.NewReader(""), &stdout, &stderr)
	return Result{Code: code, Stdout: stdout.String(), Stderr: stderr.String()}
}

// Check runs app's own commands with env and reports, as test errors, every
// way it breaks the contract a release should meet:
//
//   - it has a name and a version;
//   - help lists the commands and exits 0; an unknown command exits 64;
//   - config exits 0 with env (so env must be a valid configuration) and
//     prints no value of a variable marked secret;
//   - every task has a Summary, so `eval` explains it;
//   - eval of an unknown task exits 64.
//
// Secret values in env are the ones Check looks for in every output.
func Check[C any](t testing.TB, app release.App[C], env map[string]string) {
	t.Helper()
	info := Run(t, app, env, "relkit-info")
	if info.Code != 0 {
		t.Fatalf("relkit-info: exit %d: %s", info.Code, info.Stderr)
	}
	var desc struct {
		Name      string
		Version   string
		Variables []struct {
			Name   string
			Secret bool
		}
	}
	if err := json.Unmarshal([]byte(info.Stdout), &desc); err != nil {
		t.Fatalf("relkit-info did not print JSON: %v", err)
	}
	if desc.Name == "" || desc.Name == "app" && app.Name == "" {
		t.Error("the App has no Name: set release.App.Name (it names the binary, the log file and the tarball)")
	}
	if desc.Version == "" {
		t.Error("the release has no version")
	}
	var secrets []string
	for _, v := range desc.Variables {
		if val := env[v.Name]; v.Secret && len(val) >= 4 {
			secrets = append(secrets, val)
		}
	}
	var outputs []Result
	if r := Run(t, app, env, "help"); r.Code != 0 || !strings.Contains(r.Stdout, "start") {
		t.Errorf("help: want exit 0 listing the commands, got %d: %s", r.Code, r.Stdout+r.Stderr)
	}
	if r := Run(t, app, env, "no-such-command"); r.Code != release.ExitUsage {
		t.Errorf("an unknown command: want exit %d, got %d", release.ExitUsage, r.Code)
	}
	cfg := Run(t, app, env, "config")
	outputs = append(outputs, cfg)
	if cfg.Code != 0 {
		t.Errorf("config: want exit 0 with the given environment, got %d:\n%s", cfg.Code, cfg.Stderr)
	}
	outputs = append(outputs, Run(t, app, env, "config", "-json"))
	for name, task := range app.Tasks {
		if task.Summary == "" {
			t.Errorf("task %q has no Summary: `eval` lists tasks with their summaries", name)
		}
	}
	if r := Run(t, app, env, "eval", "\x00no-such-task"); r.Code != release.ExitUsage {
		t.Errorf("eval of an unknown task: want exit %d, got %d", release.ExitUsage, r.Code)
	}
	for _, r := range outputs {
		for _, s := range secrets {
			if strings.Contains(r.Stdout+r.Stderr, s) {
				t.Errorf("a secret value (%d characters) appears in the output of config", len(s))
			}
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
