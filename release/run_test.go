package release_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

const secretKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func run(args []string, env ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = testApp().Run(context.Background(), args, append([]string{"LOG_FORMAT=json"}, env...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		env        []string
		wantCode   int
		wantStdout string // exact unless empty
		stdoutHas  []string
		wantStderr string // exact unless empty
		stderrHas  []string
	}{
		{name: "unknown command", args: []string{"strat"}, wantCode: 64,
			wantStderr: "Error: unknown command \"strat\"\nTry: testapp help\n"},
		{name: "no command prints help on stderr", args: nil, wantCode: 64,
			stderrHas: []string{"Usage: testapp COMMAND", "Error: no command given\nTry: testapp help\n"}},
		{name: "help", args: []string{"help"}, wantCode: 0,
			stdoutHas: []string{"testapp 1.2.3", "  start ", "  eval ", "  config ", "  version ", "  gen-secret ", "Exit codes: 0 ok, 1 failure, 64 usage error, 78 configuration error."}},
		{name: "-h", args: []string{"-h"}, wantCode: 0, stdoutHas: []string{"Commands:"}},
		{name: "hidden command not in help", args: []string{"help"}, wantCode: 0},
		{name: "version", args: []string{"version"}, wantCode: 0, wantStdout: "testapp 1.2.3\n"},
		{name: "version -v", args: []string{"version", "-v"}, wantCode: 0,
			stdoutHas: []string{"testapp 1.2.3\n", "revision: ", "go: go1.", "platform: ", "signatures: releases are not signature-checked"}},
		{name: "unknown flag", args: []string{"version", "-x"}, wantCode: 64,
			wantStderr: "Error: flag provided but not defined: -x\nTry: testapp version -h\n"},
		{name: "command help", args: []string{"gen-secret", "-h"}, wantCode: 0,
			stdoutHas: []string{"Usage: testapp gen-secret [-length N]", "-length int"}},
		{name: "gen-secret bad length", args: []string{"gen-secret", "-length", "0"}, wantCode: 64,
			wantStderr: "Error: -length must be from 1 to 4096, got 0\nTry: testapp gen-secret -length 64\n"},
		{name: "gen-secret stray argument", args: []string{"gen-secret", "32"}, wantCode: 64,
			stderrHas: []string{`Error: gen-secret takes no arguments, got "32"`}},
		{name: "eval lists tasks", args: []string{"eval"}, wantCode: 0,
			stdoutHas: []string{"Tasks (run with: testapp eval TASK [ARGS]):", "echo [ARGS...]", "print the arguments", "fail", "region"}},
		{name: "eval runs a task", args: []string{"eval", "echo", "a", "-b"}, wantCode: 0, wantStdout: "a -b\n"},
		{name: "eval task sees config", args: []string{"eval", "region"}, env: []string{"REGION=us"}, wantCode: 0, wantStdout: "us\n"},
		{name: "eval unknown task", args: []string{"eval", "nope"}, wantCode: 64,
			wantStderr: "Error: unknown task \"nope\"\nTry: testapp eval   (lists the tasks)\n"},
		{name: "eval failing task", args: []string{"eval", "fail"}, wantCode: 1,
			wantStderr: "Error: task fail: the task failed on purpose\n"},
		{name: "eval with invalid config", args: []string{"eval", "echo"}, env: []string{"PORT=x"}, wantCode: 78,
			stderrHas: []string{"PORT: want a whole number, got \"x\""}},
		{name: "start with extra argument", args: []string{"start", "now"}, wantCode: 64,
			stderrHas: []string{`Error: start takes no arguments, got "now"`}},
		{name: "start with invalid config", args: []string{"start"}, env: []string{"PORT=99999", "LOG_LEVEL=loud"}, wantCode: 78,
			stderrHas: []string{"PORT: want a port from 0 to 65535, got 99999", "LOG_LEVEL: want one of debug, info, warn, error, got \"loud\"", "Try: testapp config"}},
		{name: "config", args: []string{"config"}, env: []string{"REGION=us"}, wantCode: 0,
			stdoutHas: []string{"VARIABLE", "PORT", "4000", "REGION", "us", "env", "API_KEY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(tt.args, tt.env...)
			if tt.wantCode != code {
				t.Fatalf("exit code: want %d, got %d\nstdout: %s\nstderr: %s", tt.wantCode, code, stdout, stderr)
			}
			if tt.wantStdout != "" && tt.wantStdout != stdout {
				t.Errorf("stdout: want %q, got %q", tt.wantStdout, stdout)
			}
			if tt.wantStderr != "" && tt.wantStderr != stderr {
				t.Errorf("stderr: want %q, got %q", tt.wantStderr, stderr)
			}
			for _, s := range tt.stdoutHas {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout: want it to contain %q, got %q", s, stdout)
				}
			}
			for _, s := range tt.stderrHas {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr: want it to contain %q, got %q", s, stderr)
				}
			}
		})
	}
}

func TestHelpHidesInternalCommands(t *testing.T) {
	t.Parallel()
	_, stdout, _ := run([]string{"help"})
	if strings.Contains(stdout, "relkit-info") {
		t.Fatalf("help lists the hidden relkit-info command:\n%s", stdout)
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	t.Parallel()
	const apiKey = "sk_live_do_not_print"
	const dbPass = "db-password-do-not-print"
	env := []string{"API_KEY=" + apiKey, "SECRET_KEY_BASE=" + secretKey, "DATABASE_URL=postgres://app:" + dbPass + "@db/app"}
	for _, args := range [][]string{{"config"}, {"config", "-json"}} {
		code, stdout, stderr := run(args, env...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		for _, secret := range []string{apiKey, dbPass, secretKey} {
			if strings.Contains(stdout+stderr, secret) {
				t.Fatalf("%v prints a secret value", args)
			}
		}
		if !strings.Contains(stdout, "postgres://app:***@db/app") {
			t.Errorf("%v: want DATABASE_URL with its password as ***, got:\n%s", args, stdout)
		}
	}
	_, stdout, _ := run([]string{"config", "-json"}, env...)
	var vars []struct{ Name, Value, Source string }
	if err := json.Unmarshal([]byte(stdout), &vars); err != nil {
		t.Fatalf("config -json is not JSON: %v", err)
	}
	got := map[string]string{}
	for _, v := range vars {
		got[v.Name] = v.Value + " (" + v.Source + ")"
	}
	for name, want := range map[string]string{"API_KEY": "*** (env)", "SECRET_KEY_BASE": "*** (env)", "PORT": "4000 (default)", "REGION": "eu (default)"} {
		if got[name] != want {
			t.Errorf("%s: want %q, got %q", name, want, got[name])
		}
	}
}

func TestConfigInvalidExits78NamingEveryVariable(t *testing.T) {
	t.Parallel()
	const shortSecret = "short-secret-value-1234"
	code, stdout, stderr := run([]string{"config"}, "PORT=eighty", "SHUTDOWN_TIMEOUT=soon", "SECRET_KEY_BASE="+shortSecret, "API_KEY=x-secret-x")
	if want, got := 78, code; want != got {
		t.Fatalf("exit code: want %d, got %d", want, got)
	}
	for _, want := range []string{"PORT:", "SHUTDOWN_TIMEOUT:", "SECRET_KEY_BASE: want at least 64 characters, got 23"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr: want %q in %q", want, stderr)
		}
	}
	if strings.Contains(stdout+stderr, shortSecret) || strings.Contains(stdout+stderr, "x-secret-x") {
		t.Fatal("a secret value is printed")
	}
	if !strings.Contains(stdout, "VARIABLE") {
		t.Error("config still prints the table when the configuration is invalid")
	}
}

func TestGenSecret(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, n := range []string{"64", "128", "16"} {
		code, stdout, stderr := run([]string{"gen-secret", "-length", n})
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		s := strings.TrimSuffix(stdout, "\n")
		if want := map[string]int{"64": 64, "128": 128, "16": 16}[n]; len(s) != want {
			t.Errorf("-length %s: want %d characters, got %d", n, want, len(s))
		}
		if !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(s) {
			t.Errorf("want URL-safe characters only, got %q", s)
		}
		if seen[s] {
			t.Error("two secrets are equal")
		}
		seen[s] = true
		if n == "16" && !strings.Contains(stderr, "SECRET_KEY_BASE needs at least 64 characters") {
			t.Errorf("a short secret should come with a note, got %q", stderr)
		}
	}
	code, stdout, _ := run([]string{"gen-secret"})
	if code != 0 || len(strings.TrimSpace(stdout)) != 64 {
		t.Fatalf("default length: want 64, got %d (exit %d)", len(strings.TrimSpace(stdout)), code)
	}
	// The generated secret is accepted as SECRET_KEY_BASE.
	if code, _, stderr := run([]string{"config"}, "SECRET_KEY_BASE="+strings.TrimSpace(stdout)); code != 0 {
		t.Fatalf("a generated secret is rejected: %s", stderr)
	}
}

func TestRelkitInfo(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := run([]string{"relkit-info"}, "PORT=9999")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var info struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		Server    bool   `json:"server"`
		Port      int    `json:"port"`
		Variables []struct {
			Name   string `json:"name"`
			Secret bool   `json:"secret"`
		} `json:"variables"`
	}
	if err := json.Unmarshal([]byte(stdout), &info); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if info.Name != "testapp" || info.Version != "1.2.3" || !info.Server || info.Port != 4000 {
		t.Fatalf("want testapp 1.2.3 server on 4000 (the code default, not the environment), got %+v", info)
	}
	secrets := map[string]bool{}
	for _, v := range info.Variables {
		secrets[v.Name] = v.Secret
	}
	if !secrets["API_KEY"] || !secrets["SECRET_KEY_BASE"] || secrets["PORT"] {
		t.Fatalf("secret flags wrong: %v", secrets)
	}
}

func TestConfigListsReleaseSettings(t *testing.T) {
	t.Parallel()
	code, stdout, _ := run([]string{"config"}, "RELEASE_TMP=/run/testapp")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"RELEASE_HEART_MAX_RESTARTS", "RELEASE_LOG_MAX_SIZE", "RELEASE_ROOT", "/run/testapp"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("config must list the release's own settings; %q is missing", want)
		}
	}
	code, _, stderr := run([]string{"config"}, "RELEASE_LOG_KEEP=0")
	if code != 78 || !strings.Contains(stderr, "RELEASE_LOG_KEEP: want at least 1, got 0") {
		t.Fatalf("an invalid release setting: want exit 78 naming it, got %d %q", code, stderr)
	}
}

func TestCommandHelpPrintedOnce(t *testing.T) {
	t.Parallel()
	code, stdout, _ := run([]string{"gen-secret", "-h"})
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(stdout, "Usage: testapp gen-secret"); n != 1 {
		t.Fatalf("want the usage once, got it %d times:\n%s", n, stdout)
	}
}

// A bad flag is a usage error on stderr alone: stdout carries nothing, so
// a script reading -json output never sees the help text.
func TestBadFlagLeavesStdoutEmpty(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"version", "-x"},
		{"releases", "-jsn"},
		{"switch", "-jsn", "2.0.0"},
		{"unpack", "-nope", "2.0.0"},
		{"config", "-yaml"},
	} {
		code, stdout, stderr := run(args)
		if code != 64 || stdout != "" || !strings.HasPrefix(stderr, "Error: flag provided but not defined") {
			t.Errorf("%v: want exit 64, empty stdout and Error: on stderr; got %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}
