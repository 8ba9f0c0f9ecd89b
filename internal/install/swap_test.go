package install

import (
	"os"
	"path/filepath"
	"testing"
)

// The two-step swap is what non-Linux systems and file systems without
// renameat2(RENAME_EXCHANGE) get.
func TestSwapByRenames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, d := range []string{a, b} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "name"), []byte(filepath.Base(d)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, swap := range []func(a, b string) error{swapByRenames, exchange} {
		before := [2]string{read(t, a), read(t, b)}
		if err := swap(a, b); err != nil {
			t.Fatal(err)
		}
		if want, got := [2]string{before[1], before[0]}, [2]string{read(t, a), read(t, b)}; want != got {
			t.Fatalf("after a swap: want a, b holding %v, got %v", want, got)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the swap left %d entries, want 2", len(entries))
	}
	if err := swapByRenames(a, filepath.Join(dir, "missing")); err == nil {
		t.Errorf("swap with a missing directory: want an error")
	}
	if read(t, a) == "" {
		t.Errorf("a failed swap lost a")
	}
}

func TestRenameNoReplace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, d := range []string{a, b} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, rename := range map[string]func(a, b string) error{"renameNoReplace": renameNoReplace, "renameIfAbsent": renameIfAbsent} {
		if err := rename(a, b); err == nil {
			t.Errorf("%s onto an existing empty directory: want an error, got nil", name)
		}
	}
	if err := renameNoReplace(a, filepath.Join(dir, "c")); err != nil {
		t.Errorf("renameNoReplace to a free name: %v", err)
	}
}

func read(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "name"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
