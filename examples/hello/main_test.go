package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
