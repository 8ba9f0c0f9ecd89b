package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRotatesAtSizeLimit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.log")
	w, err := Open(path, Options{MaxSize: 100, Keep: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// 10 lines of 30 bytes: 3 fit in 100 bytes, the 4th starts a new file.
	var all []string
	for i := range 10 {
		line := fmt.Sprintf("line %02d %s\n", i, strings.Repeat("x", 21))
		all = append(all, line)
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	// Files hold lines 9 | 6-8 | 3-5 | 0-2 — but Keep 3 drops 0-2.
	cases := []struct {
		name string
		path string
		want string
	}{
		{"current", path, all[9]},
		{"backup 1", Backup(path, 1), strings.Join(all[6:9], "")},
		{"backup 2", Backup(path, 2), strings.Join(all[3:6], "")},
		{"backup 3", Backup(path, 3), strings.Join(all[0:3], "")},
	}
	// 10 lines → 4 files; with Keep 3 all four exist (current + 3 backups).
	for _, c := range cases {
		if got := readFile(t, c.path); got != c.want {
			t.Errorf("%s: want %q, got %q", c.name, c.want, got)
		}
		if st, err := os.Stat(c.path); err == nil && st.Size() > 100 {
			t.Errorf("%s: size %d exceeds the 100-byte limit", c.name, st.Size())
		}
	}
	if _, err := os.Stat(Backup(path, 4)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("want no %s beyond Keep=3, got err %v", Backup(path, 4), err)
	}
}

func TestKeepDropsOldest(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.log")
	w, err := Open(path, Options{MaxSize: 10, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := range 6 {
		fmt.Fprintf(w, "%09d\n", i) // 10 bytes: one per file
	}
	for n, want := range map[int]string{0: "000000005\n", 1: "000000004\n", 2: "000000003\n"} {
		p := path
		if n > 0 {
			p = Backup(path, n)
		}
		if got := readFile(t, p); got != want {
			t.Errorf("%s: want %q, got %q", p, want, got)
		}
	}
	if _, err := os.Stat(Backup(path, 3)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("want %s deleted with Keep=2, got err %v", Backup(path, 3), err)
	}
}

func TestReopenCountsExistingSize(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(path, []byte(strings.Repeat("a", 90)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Open(path, Options{MaxSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write([]byte("0123456789\n")); err != nil {
		t.Fatal(err)
	}
	if want, got := "0123456789\n", readFile(t, path); want != got {
		t.Errorf("current file: want %q, got %q (the existing 91 bytes plus 11 exceed 100)", want, got)
	}
	if want, got := 91, len(readFile(t, Backup(path, 1))); want != got {
		t.Errorf("backup size: want %d, got %d", want, got)
	}
}

func TestOversizedWriteFillsAFileAlone(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.log")
	w, err := Open(path, Options{MaxSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	big := strings.Repeat("z", 20) + "\n"
	for _, s := range []string{"ab\n", big, "cd\n"} {
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	for p, want := range map[string]string{path: "cd\n", Backup(path, 1): big, Backup(path, 2): "ab\n"} {
		if got := readFile(t, p); got != want {
			t.Errorf("%s: want %q, got %q", p, want, got)
		}
	}
}

func TestNewFileIsPrivate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.log")
	w, err := Open(path, Options{MaxSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Write([]byte("12345\n"))
	w.Write([]byte("6\n"))
	for _, p := range []string{path, Backup(path, 1)} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if want, got := os.FileMode(0o600), st.Mode().Perm(); want != got {
			t.Errorf("%s: want mode %v, got %v", p, want, got)
		}
	}
}

func TestConcurrentWritesStayWhole(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.log")
	w, err := Open(path, Options{MaxSize: 1 << 10, Keep: 100})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				fmt.Fprintf(w, "g%d-%03d %s\n", g, i, strings.Repeat(".", 40))
			}
		}()
	}
	wg.Wait()
	w.Close()
	var lines int
	files, _ := filepath.Glob(path + "*")
	for _, p := range files {
		b := []byte(readFile(t, p))
		if len(b) > 1<<10 {
			t.Errorf("%s: size %d exceeds 1024", p, len(b))
		}
		for _, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
			if want, got := 47, len(l); want != got {
				t.Fatalf("%s: want whole lines of %d bytes, got a torn line %q", p, want, l)
			}
			lines++
		}
	}
	if want, got := 400, lines; want != got {
		t.Errorf("lines across all files: want %d, got %d", want, got)
	}
}

func TestWriteAfterClose(t *testing.T) {
	t.Parallel()
	w, err := Open(filepath.Join(t.TempDir(), "app.log"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := w.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("want os.ErrClosed, got %v", err)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	t.Parallel()
	_, err := Open(filepath.Join(t.TempDir(), "nope", "app.log"), Options{})
	if err == nil || !strings.Contains(err.Error(), "RELEASE_LOG_DIR") {
		t.Fatalf("want an error naming RELEASE_LOG_DIR, got %v", err)
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want int64
		err  bool
	}{
		{"1048576", 1 << 20, false},
		{"512K", 512 << 10, false},
		{"512kb", 512 << 10, false},
		{"10M", 10 << 20, false},
		{"10MiB", 10 << 20, false},
		{" 1G ", 1 << 30, false},
		{"", 0, true},
		{"0", 0, true},
		{"-5M", 0, true},
		{"ten", 0, true},
		{"10T", 0, true},
	}
	for _, c := range cases {
		got, err := ParseSize(c.in)
		if c.err {
			if err == nil {
				t.Errorf("ParseSize(%q): want an error, got %d", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q): want %d, got %d, %v", c.in, c.want, got, err)
		}
	}
}

func TestTail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	long := strings.Repeat("y", 70<<10)
	cases := []struct {
		name    string
		content string
		n       int
		want    []string
	}{
		{"fewer lines than asked", "a\nb\n", 5, []string{"a", "b"}},
		{"last n", "a\nb\nc\nd\n", 2, []string{"c", "d"}},
		{"no trailing newline", "a\nb", 1, []string{"b"}},
		{"empty", "", 3, nil},
		{"cut first line dropped", long + "\nlast\n", 5, []string{"last"}},
	}
	for i, c := range cases {
		p := filepath.Join(dir, fmt.Sprint(i))
		os.WriteFile(p, []byte(c.content), 0o600)
		got, err := Tail(p, c.n)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: want %q, got %q, %v", c.name, c.want, got, err)
		}
	}
	if _, err := Tail(filepath.Join(dir, "missing"), 1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: want os.ErrNotExist, got %v", err)
	}
}

func TestFilesOldestFirst(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	w, err := Open(path, Options{MaxSize: 10, Keep: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		fmt.Fprintf(w, "line %d....\n", i)
	}
	w.Close()
	os.WriteFile(path+".x", nil, 0o600)
	os.WriteFile(path+".01", nil, 0o600)
	got, err := Files(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{path + ".3", path + ".2", path + ".1", path}
	if !slices.Equal(got, want) {
		t.Fatalf("Files: want %v, got %v", want, got)
	}
	var all []string
	for _, f := range got {
		r, err := OpenRead(f)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		all = append(all, strings.TrimSpace(string(b)))
	}
	if want := "line 1....|line 2....|line 3....|line 4...."; strings.Join(all, "|") != want {
		t.Errorf("contents oldest first: want %q, got %q", want, strings.Join(all, "|"))
	}
	if got, _ := Files(filepath.Join(dir, "none.log")); len(got) != 0 {
		t.Errorf("Files of a log that does not exist: want none, got %v", got)
	}
}
