package upgradetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	envprobeV1 = &build{pkg: "./internal/testkit/upgradetest/testdata/envprobe", version: "1.0.0"}
	envprobeV2 = &build{pkg: "./internal/testkit/upgradetest/testdata/envprobe", version: "2.0.0"}
)

// writeEnvFile writes releases/VSN/env of s.
func (s *system) writeEnvFile(vsn, content string) {
	s.t.Helper()
	dir := filepath.Join(s.root, "releases", vsn)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "env"), []byte(content), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// line GETs path and returns its body without the trailing newline.
func (s *system) line(path string) string {
	s.t.Helper()
	return strings.TrimSuffix(s.body(path), "\n")
}

// TestEnvFileOfTheNewReleaseWinsAfterADaemonUpgrade: a daemon of 1.0.0,
// whose env file says LOG_LEVEL=error, upgraded to 2.0.0, whose env file
// says LOG_LEVEL=debug, runs 2.0.0 with debug: the old release's file must
// not reach the new release as if it were process environment.
func TestEnvFileOfTheNewReleaseWinsAfterADaemonUpgrade(t *testing.T) {
	t.Parallel()
	v1, v2 := envprobeV1.get(t), envprobeV2.get(t)
	s := install(t, "envprobe", v1)
	t.Cleanup(func() { s.run("stop") })
	s.writeEnvFile("1.0.0", "LOG_LEVEL=error\nONLY_IN_ONE=1\n")
	s.mustRun("daemon")
	if got := s.line("/level"); got != "ERROR" {
		t.Fatalf("1.0.0 under daemon: want LOG_LEVEL=error from its env file, got %q", got)
	}
	s.put("2.0.0", v2)
	s.writeEnvFile("2.0.0", "LOG_LEVEL=debug\n")
	s.mustRun("upgrade", "2.0.0")
	if got := s.line("/"); got != "envprobe 2.0.0" {
		t.Fatalf("after the upgrade: want envprobe 2.0.0, got %q", got)
	}
	if got := s.line("/level"); got != "DEBUG" {
		t.Errorf("2.0.0 after upgrading a daemon: want LOG_LEVEL=debug from releases/2.0.0/env, got %q", got)
	}
	if got := s.line("/getenv?k=ONLY_IN_ONE"); got != "" {
		t.Errorf("2.0.0 sees ONLY_IN_ONE=%q, which only 1.0.0's env file sets", got)
	}
	// The same across a restart of the daemon's app.
	s.mustRun("restart")
	if got := s.line("/level"); got != "DEBUG" {
		t.Errorf("2.0.0 after restart: want LOG_LEVEL=debug, got %q", got)
	}
}

// TestEnvFileReachesTheRealEnvironment: variables of releases/VSN/env are
// in the app process's real environment, as systemd's EnvironmentFile=
// puts them there: the Go runtime applies GOMEMLIMIT, a library calling
// os.Getenv sees them, and the process environment still wins. Checked for
// a supervised start, a daemon, an unsupervised start and after an
// upgrade.
func TestEnvFileReachesTheRealEnvironment(t *testing.T) {
	t.Parallel()
	v1, v2 := envprobeV1.get(t), envprobeV2.get(t)
	const file = "GOMEMLIMIT=123MiB\nFROM_FILE=file\nBOTH=file\n"
	check := func(t *testing.T, s *system, when string) {
		t.Helper()
		if want, got := "128974848", s.line("/memlimit"); got != want {
			t.Errorf("%s: the runtime's memory limit: want %s (GOMEMLIMIT=123MiB from the env file), got %s", when, want, got)
		}
		if got := s.line("/getenv?k=FROM_FILE"); got != "file" {
			t.Errorf("%s: os.Getenv(FROM_FILE): want %q from the env file, got %q", when, "file", got)
		}
		if got := s.line("/getenv?k=BOTH"); got != "process" {
			t.Errorf("%s: os.Getenv(BOTH): want %q (the process environment wins), got %q", when, "process", got)
		}
	}
	for _, mode := range []string{"start", "daemon", "unsupervised"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := install(t, "envprobe", v1, "BOTH=process")
			s.writeEnvFile("1.0.0", file)
			switch mode {
			case "start":
				s.start()
			case "daemon":
				t.Cleanup(func() { s.run("stop") })
				s.mustRun("daemon")
			case "unsupervised":
				s.env = append(s.env, "RELEASE_SUPERVISE=false")
				s.start()
			}
			check(t, s, mode)
			if mode == "unsupervised" {
				return
			}
			s.put("2.0.0", v2)
			s.writeEnvFile("2.0.0", file)
			s.mustRun("upgrade", "2.0.0")
			check(t, s, mode+", after the upgrade")
		})
	}
}
