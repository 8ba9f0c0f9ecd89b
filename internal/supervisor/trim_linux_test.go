package supervisor

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// residentKB sums the resident kB of this process's droppable mappings
// of its binary.
func residentKB(t *testing.T) int64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	regions, err := binaryRegions(f, unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	if err != nil {
		t.Fatal(err)
	}
	var kB int64
	for _, r := range regions {
		kB += r.rssKB
	}
	return kB
}

// The test binary itself: a statically linked one gives its pages back and
// goes on running; a dynamically linked one (cgo, -race) is left alone.
func TestTrimBinaryOfThisProcess(t *testing.T) {
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	static := checkStaticExec(exe)
	exe.Close()
	before := residentKB(t)
	kB, err := trimBinary()
	if static != nil {
		if !errors.Is(err, errNotStatic) || kB != 0 {
			t.Fatalf("a binary that is not statically linked (%v): want errNotStatic and nothing dropped, got %d kB, %v", static, kB, err)
		}
		t.Skipf("this test binary is not statically linked (%v): its pages are left alone, as they must be", static)
	}
	if err != nil || kB <= 0 {
		t.Fatalf("trimBinary: want some kB dropped, got %d, %v", kB, err)
	}
	after := residentKB(t)
	if after >= before {
		t.Errorf("resident kB of the binary's read-only mappings: want fewer than the %d before the trim, got %d", before, after)
	}
	// The code and read-only data come back as they were.
	if got := describeStatus(0x0300); got != "exited with status 3" {
		t.Errorf("after the trim: want %q, got %q", "exited with status 3", got)
	}
}
