package release_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

type testConfig struct {
	runtimeconfig.Base
	APIKey string        `env:"API_KEY" secret:"true" desc:"key for a payments API"`
	Region string        `env:"REGION" envDefault:"eu" desc:"where we run"`
	Delay  time.Duration `env:"SLOW_DELAY" envDefault:"1s"`
}

// hits counts the requests to / served by this process: live state an rpc
// task reads.
var hits atomic.Int64

// testApp is the release the tests run, in process and re-executed.
func testApp() release.App[testConfig] {
	return release.App[testConfig]{
		Name:    "testapp",
		Version: "1.2.3",
		Server:  true,
		Handler: func(ctx context.Context, cfg *testConfig, log *slog.Logger) (http.Handler, error) {
			mux := http.NewServeMux()
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				fmt.Fprintf(w, "hello from %s %s\n", release.InfoFrom(ctx).Name, release.InfoFrom(ctx).Version)
			})
			mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
				log.Error("crashing on request")
				os.Exit(3)
			})
			mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(cfg.Delay)
				fmt.Fprintln(w, "slow done")
			})
			return mux, nil
		},
		Tasks: release.Tasks[testConfig]{
			"echo": {Summary: "print the arguments", Usage: "[ARGS...]", Via: release.ViaEvalOrRPC, Run: func(ctx context.Context, c *release.Call[testConfig]) error {
				fmt.Fprintln(c.Stdout, strings.Join(c.Args, " "))
				return nil
			}},
			"hits": {Summary: "print the requests served by this process", Via: release.ViaRPC, Run: func(ctx context.Context, c *release.Call[testConfig]) error {
				fmt.Fprintf(c.Stdout, "hits=%d pid=%d\n", hits.Load(), os.Getpid())
				fmt.Fprintln(c.Stderr, "counted in the running system")
				return nil
			}},
			"fail": {Summary: "fail on purpose", Via: release.ViaEvalOrRPC, Run: func(ctx context.Context, c *release.Call[testConfig]) error {
				return fmt.Errorf("the task failed on purpose")
			}},
			"panic": {Summary: "panic on purpose", Via: release.ViaEvalOrRPC, Run: func(ctx context.Context, c *release.Call[testConfig]) error {
				panic("the task panicked on purpose")
			}},
			"region": {Summary: "print REGION", Run: func(ctx context.Context, c *release.Call[testConfig]) error {
				fmt.Fprintln(c.Stdout, c.Config.Region)
				return nil
			}},
		},
	}
}

// TestMain lets the test binary act as the release: re-executed with
// RELKIT_TEST_EXEC=1 it runs release.Main on testApp.
func TestMain(m *testing.M) {
	if os.Getenv("RELKIT_TEST_EXEC") == "1" {
		release.Main(testApp())
		return
	}
	os.Exit(m.Run())
}

// waitLog waits until a JSON log line with msg containing substr appears and
// returns it decoded.
func waitLog(t *testing.T, logs interface{ String() string }, substr string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil {
				if msg, _ := rec["msg"].(string); strings.Contains(msg, substr) {
					return rec
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no log line containing %q within 10s; logs:\n%s", substr, logs.String())
	return nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// localURL turns a logged listen address such as "[::]:4312" into a
// loopback URL.
func localURL(addr string) string {
	i := strings.LastIndex(addr, ":")
	return "http://127.0.0.1" + addr[i:]
}

// runtimeDirs returns RELEASE_TMP and RELEASE_LOG_DIR settings private to
// the test: a running release keeps its control socket, lock and logs
// there, and two releases of one name refuse to share them. The directory
// is short because Unix socket paths are limited to 107 bytes.
func runtimeDirs(t testing.TB) []string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return []string{"RELEASE_TMP=" + dir + "/tmp", "RELEASE_LOG_DIR=" + dir + "/log"}
}
