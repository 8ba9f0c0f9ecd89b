package main

import (
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // substring
		wantStderr string // exact
	}{
		{"no command", nil, exitUsage, "", ""},
		{"unknown command", []string{"deploy"}, exitUsage, "", "Error: unknown command \"deploy\"\nTry: relkit help\n"},
		{"unknown flag", []string{"build", "-fast"}, exitUsage, "", "Error: flag provided but not defined: -fast\nTry: relkit help build\n"},
		{"bad version", []string{"build", "-version", "../1"}, exitUsage, "", ""},
		{"bad target", []string{"build", "-target", "linux"}, exitUsage, "", "Error: -target \"linux\": want GOOS/GOARCH, e.g. linux/arm64\nTry: go tool dist list\n"},
		{"two packages", []string{"build", "./a", "./b"}, exitUsage, "", "Error: build takes one package, got \"./a ./b\"\nTry: relkit help build\n"},
		{"gen without kind", []string{"gen"}, exitUsage, "", "Error: gen needs a kind: docker, systemd, k8s or ansible\nTry: relkit help gen\n"},
		{"gen unknown kind", []string{"gen", "helm"}, exitUsage, "", "Error: unknown kind \"helm\": want docker, systemd, k8s or ansible\nTry: relkit help gen\n"},
		{"gen bad flag", []string{"gen", "systemd", "-sockets"}, exitUsage, "", "Error: flag provided but not defined: -sockets\nTry: relkit gen systemd -h\n"},
		{"help unknown", []string{"help", "deploy"}, exitUsage, "", "Error: no help for unknown command \"deploy\"\nTry: relkit help\n"},
		{"help", []string{"help"}, exitOK, "  build    build the app and assemble its release", ""},
		{"-h", []string{"-h"}, exitOK, "Commands:", ""},
		{"help build", []string{"help", "build"}, exitOK, "Usage: relkit build [-version V]", ""},
		{"build -h", []string{"build", "-h"}, exitOK, "-target string", ""},
		{"gen docker -h", []string{"gen", "docker", "-h"}, exitOK, "Usage: relkit gen docker [flags] [PKG]", ""},
		{"version", []string{"version"}, exitOK, "relkit ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := relkit(t, nil, tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit: want %d, got %d (stderr %q)", tt.wantCode, r.code, r.stderr)
			}
			if tt.wantStderr != "" && r.stderr != tt.wantStderr {
				t.Errorf("stderr:\nwant %q\ngot  %q", tt.wantStderr, r.stderr)
			}
			if tt.wantCode == exitUsage && (!strings.HasPrefix(r.stderr, "Error: ") && !strings.Contains(r.stderr, "\nError: ") || !strings.Contains(r.stderr, "\nTry: ")) {
				t.Errorf("usage error: want Error: and Try: lines, got %q", r.stderr)
			}
			if !strings.Contains(r.stdout, tt.wantStdout) {
				t.Errorf("stdout: want %q in it, got %q", tt.wantStdout, r.stdout)
			}
		})
	}
}
