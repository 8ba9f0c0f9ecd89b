package install_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/testkit"
)

// smallDisk mounts a tmpfs of size bytes (as "4m") and returns its path;
// it is unmounted when the test ends.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testkit.Unavailable(t, "mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		testkit.Unavailable(t, "mount -t tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// bigV2 is v2 with a binary of 3 MiB (it compresses to a few KiB, so the
// tarball itself fits anywhere).
var bigV2 = rel{name: "app", vsn: "1.1.0", binary: "#!/bin/sh\n" + strings.Repeat("#", 3<<20) + "\n"}

// rootOn puts a root with v1 installed into dir, and the tarball of
// bigV2 outside it; it returns the root and the tarball.
func rootOn(t *testing.T, dir string) (*install.Root, string) {
	t.Helper()
	writeTree(t, dir, v1)
	tarball := filepath.Join(t.TempDir(), tarballName(bigV2))
	writeTarball(t, tarball, tarGz(t, entries(t, bigV2)))
	root, err := install.Open(dir, "app")
	must(t, err)
	return root, tarball
}

// TestUnpackRemovesStaleStagingBeforeUnpacking: an upgrade killed while
// unpacking leaves its staging directory, which on a small disk takes the
// space the next unpack needs. The next unpack removes it first and
// succeeds.
func TestUnpackRemovesStaleStagingBeforeUnpacking(t *testing.T) {
	disk := smallDisk(t, "8m")
	root, tarball := rootOn(t, disk)
	stale := filepath.Join(disk, "releases", ".unpack-1.1.0-4242")
	must(t, os.MkdirAll(filepath.Join(stale, "releases", "1.1.0"), 0o700))
	must(t, os.WriteFile(filepath.Join(stale, "releases", "1.1.0", "app"), []byte(strings.Repeat("x", 6<<20)), 0o755))

	if _, err := root.Unpack("1.1.0", install.UnpackOptions{Tarball: tarball}); err != nil {
		t.Fatalf("unpack after a killed one left %s: %v", stale, err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("staging left by the killed unpack: want it removed, got %v", err)
	}
	if got := readFile(t, filepath.Join(disk, "releases", "1.1.0", "app")); got != bigV2.script() {
		t.Errorf("releases/1.1.0/app: %d bytes, want %d", len(got), len(bigV2.script()))
	}
}

// TestUnpackRefusesWhenTheDiskIsTooSmall: the release needs 3 MiB, the
// disk has 2: refused before writing, with a message naming the root, the
// space needed and the space free; nothing changed.
func TestUnpackRefusesWhenTheDiskIsTooSmall(t *testing.T) {
	disk := smallDisk(t, "2m")
	root, tarball := rootOn(t, disk)
	before := snapshot(t, disk)

	_, err := root.Unpack("1.1.0", install.UnpackOptions{Tarball: tarball})
	var se *install.SpaceError
	if !errors.As(err, &se) || !errors.Is(err, install.ErrNoSpace) {
		t.Fatalf("unpack of 3 MiB onto 2 MiB: want a SpaceError (ErrNoSpace), got %v", err)
	}
	if errors.Is(err, install.ErrDamaged) {
		t.Errorf("a full disk reported as a damaged tarball: %v", err)
	}
	if se.Need < 3<<20 || se.Free > 2<<20 || se.Root != disk {
		t.Errorf("SpaceError %+v: want Need >= 3 MiB, Free <= 2 MiB, Root %s", se, disk)
	}
	msg := err.Error()
	for _, want := range []string{disk, "needs 3.0 MiB", " free", "nothing was installed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if d := diffSnapshots(before, snapshot(t, disk)); d != "" {
		t.Errorf("a refused unpack changed the root:\n%s", d)
	}
}

// TestUnpackReportsAWriteErrorAsOne: the disk fills while unpacking (the
// free-space check saw room): the error is the disk's (ENOSPC), not a
// damaged tarball to build again; nothing changed.
func TestUnpackReportsAWriteErrorAsOne(t *testing.T) {
	disk := smallDisk(t, "2m")
	root, tarball := rootOn(t, disk)
	before := snapshot(t, disk)
	defer install.SetFreeSpace(1 << 40)()

	_, err := root.Unpack("1.1.0", install.UnpackOptions{Tarball: tarball})
	if err == nil {
		t.Fatal("unpack of 3 MiB onto 2 MiB succeeded")
	}
	if errors.Is(err, install.ErrDamaged) || strings.Contains(err.Error(), "build it again") {
		t.Fatalf("a full disk reported as a damaged tarball: %v", err)
	}
	if !errors.Is(err, install.ErrNoSpace) || !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("want ErrNoSpace naming ENOSPC, got %v", err)
	}
	if !strings.Contains(err.Error(), disk) {
		t.Errorf("message does not name the root %s: %v", disk, err)
	}
	if d := diffSnapshots(before, snapshot(t, disk)); d != "" {
		t.Errorf("a failed unpack changed the root:\n%s", d)
	}
}
