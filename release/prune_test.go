package release_test

import (
	"strings"
	"testing"
)

func TestReleaseKeepSetting(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := run([]string{"config"})
	if code != 0 || !strings.Contains(stdout, "RELEASE_KEEP") {
		t.Errorf("config: want RELEASE_KEEP listed, got exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = run([]string{"config"}, "RELEASE_KEEP=-1")
	if code != 78 || !strings.Contains(stderr, "RELEASE_KEEP: want 0 (keep every release) or more, got -1") {
		t.Errorf("RELEASE_KEEP=-1: want exit 78 naming it, got %d %q", code, stderr)
	}
	code, _, stderr = run([]string{"releases", "prune"}, append(runtimeDirs(t), "RELEASE_KEEP=0")...)
	if want := "Error: RELEASE_KEEP=0 turns pruning off, and -keep is not given\nTry: testapp releases prune -keep 5\n"; code != 64 || stderr != want {
		t.Errorf("releases prune with RELEASE_KEEP=0: want exit 64 and %q, got %d %q", want, code, stderr)
	}
}

// TestPruneNegativeKeep: a negative -keep is a usage error, not a silent
// fall-back to RELEASE_KEEP.
func TestPruneNegativeKeep(t *testing.T) {
	t.Parallel()
	code, _, stderr := run([]string{"releases", "prune", "-keep", "-1"}, runtimeDirs(t)...)
	if want := "Error: -keep must be 0 or more, got -1\nTry: testapp releases prune -keep 5\n"; code != 64 || stderr != want {
		t.Errorf("releases prune -keep -1: want exit 64 and %q, got %d %q", want, code, stderr)
	}
}
