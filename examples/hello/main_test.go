package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relkit/relkit/release/releasetest"
)

func TestGreet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"no name", []string{"eval", "greet"}, 0, "Hello, world!\n", ""},
		{"a name", []string{"eval", "greet", "Ada"}, 0, "Hello, Ada!\n", ""},
		{"too many", []string{"eval", "greet", "Ada", "Grace"}, 64, "", "Error: greet takes at most one name, got 2 arguments\nTry: hello eval greet [name]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := app().Run(context.Background(), tt.args, []string{"LOG_FORMAT=json"}, strings.NewReader(""), &stdout, &stderr)
			if tt.wantCode != code {
				t.Fatalf("exit code: want %d, got %d (stderr %q)", tt.wantCode, code, stderr.String())
			}
			if tt.wantOut != stdout.String() {
				t.Errorf("stdout: want %q, got %q", tt.wantOut, stdout.String())
			}
			if tt.wantErr != stderr.String() {
				t.Errorf("stderr: want %q, got %q", tt.wantErr, stderr.String())
			}
		})
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	var stdout bytes.Buffer
	if code := app().Run(context.Background(), []string{"version"}, nil, nil, &stdout, io.Discard); code != 0 {
		t.Fatalf("version: exit %d", code)
	}
	h, err := handler(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	// The handler reads the version from the context Run gives it; a bare
	// context has none.
	if want, got := "Hello from hello \n", rec.Body.String(); want != got {
		t.Fatalf("want %q, got %q", want, got)
	}
	if want, got := "hello 0.1.0\n", stdout.String(); want != got {
		t.Fatalf("version: want %q, got %q", want, got)
	}
}

func TestReleaseContract(t *testing.T) {
	t.Parallel()
	releasetest.Check(t, app(), map[string]string{"SECRET_KEY_BASE": strings.Repeat("k", 64)})
}

func TestPageUsesDigestedStylesheet(t *testing.T) {
	t.Parallel()
	h, err := handler(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/page", nil))
	m := regexp.MustCompile(`href="(/assets/app-[0-9a-f]{32}\.css)"`).FindStringSubmatch(rec.Body.String())
	if rec.Code != 200 || m == nil {
		t.Fatalf("want a page linking the digested stylesheet, got %d %q", rec.Code, rec.Body.String())
	}
	css, err := static.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, wantCache string
	}{
		{"digested", m[1], "public, max-age=31536000, immutable"},
		{"undigested", "/assets/app.css", "public, no-cache"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if rec.Code != 200 || rec.Body.String() != string(css) {
			t.Errorf("%s: want 200 and static/app.css, got %d (%d bytes)", tt.name, rec.Code, rec.Body.Len())
		}
		if got := rec.Header().Get("Cache-Control"); got != tt.wantCache {
			t.Errorf("%s: Cache-Control: want %q, got %q", tt.name, tt.wantCache, got)
		}
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nope", nil))
	if rec.Code != 404 {
		t.Errorf("want 404 for an unknown path, got %d", rec.Code)
	}
}

// TestHealthCommandProbesRunningRelease runs start and health as Docker
// would: health exits 0 while start serves on PORT, 1 once it stopped.
func TestHealthCommandProbesRunningRelease(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	dir, err := os.MkdirTemp("", "rk") // short: Unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	env := []string{"PORT=" + port, "LOG_FORMAT=json", "SHUTDOWN_TIMEOUT=5s", "RELEASE_TMP=" + dir + "/tmp", "RELEASE_LOG_DIR=" + dir + "/log"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- app().Run(ctx, []string{"start"}, env, nil, io.Discard, io.Discard) }()
	stop := sync.OnceValue(func() int { cancel(); return <-done })
	t.Cleanup(func() { stop() })

	health := func() (int, string) {
		var stdout, stderr bytes.Buffer
		code := app().Run(context.Background(), []string{"health", "-timeout", "2s"}, env, nil, &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out := health()
		if code == 0 {
			if want := "http://127.0.0.1:" + port + "/healthz: ok\n"; out != want {
				t.Errorf("want %q, got %q", want, out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health never passed while start was running: %d %q", code, out)
		}
		time.Sleep(20 * time.Millisecond) // start is still binding PORT
	}
	if code := stop(); code != 0 {
		t.Fatalf("start: want exit 0, got %d", code)
	}
	if code, out := health(); code != 1 || !strings.Contains(out, "is the release running") {
		t.Fatalf("after stop: want exit 1 saying nothing answers, got %d %q", code, out)
	}
}
