package upgradetest

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/relkit/relkit/internal/testkit"
	"github.com/relkit/relkit/internal/testkit/testuser"
)

// gzipSize is the size of the stream a .tar.gz holds (its last 4 bytes).
func gzipSize(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return int64(binary.LittleEndian.Uint32(b[len(b)-4:]))
}

// TestUpgradeOnAFullDisk installs hello 1.0.0 on a tmpfs with room for
// half of 2.0.0 more, next to a staging directory a killed upgrade left:
// the upgrade removes that, then refuses before unpacking, naming the
// space needed and free; nothing changes and 1.0.0 keeps serving.
func TestUpgradeOnAFullDisk(t *testing.T) {
	testuser.NeedRoot(t)
	v1, v2 := helloV1.get(t), helloV2.get(t)
	dir := testkit.ShortTempDir(t)
	size := gzipSize(t, v1) + gzipSize(t, v2)/2 + 1<<20
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+itoa(size), "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	s := installIn(t, dir, "hello", v1)
	// A killed upgrade's staging: it holds space, and no process owns it.
	stale := filepath.Join(dir, "releases", ".unpack-2.0.0-killed")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "hello"), make([]byte, 64<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	s.start()
	s.put("2.0.0", v2)
	before := s.snapshot()
	delete(before, "releases/.unpack-2.0.0-killed")
	delete(before, "releases/.unpack-2.0.0-killed/hello")

	code, stdout, stderr := s.run("upgrade", "2.0.0")
	if code != 1 {
		t.Fatalf("upgrade on a full disk: want exit 1, got %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, want := range []string{"not enough free space to unpack the release", "needs ", " free; nothing was installed", dir} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr: want %q in\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "damaged") {
		t.Errorf("stderr calls the tarball damaged, though the disk is full:\n%s", stderr)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the killed upgrade's staging directory: want removed, got %v", err)
	}
	if d := testkit.Diff(before, s.snapshot()); d != "" {
		t.Errorf("the refused upgrade changed the root:\n%s", d)
	}
	if got := s.body("/"); got != "Hello from hello 1.0.0\n" {
		t.Errorf("after the refused upgrade: want 1.0.0 serving, got %q", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
