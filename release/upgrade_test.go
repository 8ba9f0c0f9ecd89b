package release_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The test binary is a development build (not inside ROOT/releases/VSN/),
// so upgrade, downgrade and releases explain that they need an assembled
// release; internal/testkit/upgradetest runs them on real builds.
func TestUpgradeCommandLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"upgrade without a version", []string{"upgrade"}, 64, "Error: upgrade needs the version to switch to\nTry: testapp upgrade 1.1.0\n"},
		{"upgrade with two versions", []string{"upgrade", "1.1.0", "1.2.0"}, 64, "Error: upgrade takes one version, got also \"1.2.0\"\nTry: testapp upgrade 1.1.0\n"},
		{"upgrade with an unknown flag", []string{"upgrade", "1.1.0", "-x"}, 64, "Error: flag provided but not defined: -x\nTry: testapp upgrade -h\n"},
		{"upgrade -tarball before the version", []string{"upgrade", "-tarball", "/tmp/x.tar.gz"}, 64, "Error: upgrade needs the version to switch to\nTry: testapp upgrade 1.1.0\n"},
		{"downgrade with two versions", []string{"downgrade", "1.0.0", "0.9.0"}, 64, "Error: downgrade takes at most one version, got also \"0.9.0\"\nTry: testapp downgrade 1.0.0\n"},
		{"switch without a version", []string{"switch", "-json"}, 64, "Error: switch needs the version to switch to\nTry: testapp switch 2.0.0\n"},
		{"unpack without a version", []string{"unpack"}, 64, "Error: unpack needs the version to unpack\nTry: testapp unpack 2.0.0\n"},
		{"unpack with an invalid version", []string{"unpack", "../x"}, 64, "Error: invalid release name or version: version \"../x\": use 1 to 128 letters, digits, '.', '_', '+' or '-', starting with a letter or digit (e.g. 1.2.0)\nTry: testapp unpack 2.0.0\n"},
		{"releases prune with an argument", []string{"releases", "prune", "3"}, 64, "Error: releases prune takes no arguments, got \"3\"\nTry: testapp releases prune -keep 5\n"},
		{"releases -history -json", []string{"releases", "-history", "-json"}, 64, "Error: releases -history has no -json form\nTry: testapp releases -history\n"},
		{"releases with an argument", []string{"releases", "1.0.0"}, 64, "Error: releases takes no arguments, got \"1.0.0\"\nTry: testapp releases\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := run(tt.args, runtimeDirs(t)...)
			if code != tt.wantCode || stderr != tt.wantStderr {
				t.Errorf("%v: want exit %d and %q, got %d and %q", tt.args, tt.wantCode, tt.wantStderr, code, stderr)
			}
		})
	}
	for _, args := range [][]string{{"upgrade", "1.1.0"}, {"upgrade", "-tarball", "x.tar.gz", "1.1.0"}, {"downgrade", "1.0.0"}, {"downgrade", "-force"}, {"releases"},
		{"releases", "prune", "-keep", "2"}, {"unpack", "2.0.0"}, {"switch", "2.0.0"}} {
		code, _, stderr := run(args, runtimeDirs(t)...)
		if code != 1 || !strings.Contains(stderr, "an assembled release (relkit build)") {
			t.Errorf("%v in a development build: want exit 1 explaining it needs an assembled release, got %d %q", args, code, stderr)
		}
	}
}

func TestEnvFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "# per-release settings\nREGION=ap\nAPI_KEY=\"k-from-the-file\"\n")
	tests := []struct {
		name      string
		env       []string
		args      []string
		wantCode  int
		wantOut   string
		stderrHas []string
		stderrNot string
	}{
		{name: "file value", env: []string{"RELEASE_ENV_FILE=" + good}, args: []string{"eval", "region"}, wantOut: "ap\n"},
		{name: "the process environment wins", env: []string{"RELEASE_ENV_FILE=" + good, "REGION=us"}, args: []string{"eval", "region"}, wantOut: "us\n"},
		{name: "missing file", env: []string{"RELEASE_ENV_FILE=" + filepath.Join(dir, "nope")}, args: []string{"eval", "region"}, wantCode: 78,
			stderrHas: []string{"RELEASE_ENV_FILE: names " + filepath.Join(dir, "nope") + ", which does not exist"}},
		{name: "bad lines, no value shown", env: []string{"RELEASE_ENV_FILE=" + write("bad", "REGION=eu\nAPI_KEY 's3cr3t'\nexport X=s3cr3t\n")}, args: []string{"config"}, wantCode: 78,
			stderrHas: []string{"bad line 2: want KEY=VALUE", `bad line 3 (X): drop "export"`, "Try: testapp config"}, stderrNot: "s3cr3t"},
		{name: "reserved variables", env: []string{"RELEASE_ENV_FILE=" + write("reserved", "NOTIFY_SOCKET=/x\nRELEASE_TMP=/tmp/x\nRELKIT_LISTEN_FDS=1\n")}, args: []string{"eval", "region"}, wantCode: 78,
			stderrHas: []string{"reserved (NOTIFY_SOCKET): set by the process manager", "reserved (RELEASE_TMP): where the running system keeps its sockets", "reserved (RELKIT_LISTEN_FDS): set by the process manager"}},
		{name: "commands without configuration ignore a bad file", env: []string{"RELEASE_ENV_FILE=" + filepath.Join(dir, "nope")}, args: []string{"version"}, wantOut: "testapp 1.2.3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(tt.args, tt.env...)
			if code != tt.wantCode {
				t.Fatalf("exit: want %d, got %d (stderr %q)", tt.wantCode, code, stderr)
			}
			if tt.wantOut != "" && stdout != tt.wantOut {
				t.Errorf("stdout: want %q, got %q", tt.wantOut, stdout)
			}
			for _, want := range tt.stderrHas {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr: want %q in %q", want, stderr)
				}
			}
			if tt.stderrNot != "" && strings.Contains(stderr, tt.stderrNot) {
				t.Errorf("stderr shows %q: %q", tt.stderrNot, stderr)
			}
		})
	}
	// config lists the file's values (secrets redacted).
	code, stdout, _ := run([]string{"config", "-json"}, "RELEASE_ENV_FILE="+good)
	if code != 0 || !strings.Contains(stdout, `"name": "REGION",
    "value": "ap"`) || strings.Contains(stdout, "k-from-the-file") {
		t.Errorf("config -json: want REGION=ap from the file and API_KEY redacted, got %d %s", code, stdout)
	}
}
