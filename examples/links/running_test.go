package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
)

// TestRunningSystem starts links in process and uses what the server and
// the control socket give it: the digested stylesheet, /readyz with the
// database check, and `rpc stats` reading the live counters.
func TestRunningSystem(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "lk") // short: Unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	env := append(sqliteEnv(t), "PORT=0", "RELEASE_TMP="+dir+"/tmp", "RELEASE_LOG_DIR="+dir+"/log", "SHUTDOWN_TIMEOUT=5s")
	logs := &testkit.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- app().Run(ctx, []string{"start"}, append([]string{"LOG_FORMAT=json"}, env...), strings.NewReader(""), io.Discard, logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("start did not stop")
		}
	})
	base := ""
	for deadline := time.Now().Add(15 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && strings.HasPrefix(rec.Msg, "HTTP server listening") {
				base = "http://127.0.0.1" + rec.Addr[strings.LastIndex(rec.Addr, ":"):]
			}
		}
	}
	if base == "" {
		t.Fatalf("links did not start:\n%s", logs)
	}
	noRedirect := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := noRedirect.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	if resp, body := get("/readyz"); resp.StatusCode != 200 {
		t.Fatalf("/readyz with a reachable database: want 200, got %d %q", resp.StatusCode, body)
	}
	_, page := get("/")
	css := regexp.MustCompile(`href="(/assets/app-[0-9a-f]+\.css)"`).FindStringSubmatch(page)
	if css == nil {
		t.Fatalf("the page does not link a digested stylesheet:\n%s", page)
	}
	if resp, body := get(css[1]); resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.Contains(body, "font:") {
		t.Fatalf("%s: want 200 with immutable caching, got %d %q", css[1], resp.StatusCode, resp.Header.Get("Cache-Control"))
	}

	resp, err := noRedirect.Post(base+"/api/links", "application/json", strings.NewReader(`{"url":"https://example.com/x","code":"ex"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: want 201, got %d", resp.StatusCode)
	}
	for i := 0; i < 3; i++ {
		if resp, _ := get("/ex"); resp.StatusCode != http.StatusFound {
			t.Fatalf("redirect: want 302, got %d", resp.StatusCode)
		}
	}

	code, stdout, stderr := run(t, env, "rpc", "stats")
	if code != 0 || stdout != "links created: 1\nredirects: 3\n" {
		t.Fatalf("rpc stats: want the live counters, got %d %q %q", code, stdout, stderr)
	}
	if code, _, stderr := run(t, env, "eval", "stats"); code != 64 || !strings.Contains(stderr, "rpc") {
		t.Fatalf("eval stats: want 64 pointing at rpc (the counters live in the running system), got %d %q", code, stderr)
	}
}
