package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		flag   int
		setup  func(dir, path string)
		reason string // "": opened
	}{
		{"new file", os.O_WRONLY | os.O_CREATE, func(dir, path string) {}, ""},
		{"existing file", os.O_RDONLY, func(dir, path string) { os.WriteFile(path, []byte("1\n"), 0o600) }, ""},
		{"symlink to a file", os.O_RDONLY, func(dir, path string) {
			os.WriteFile(filepath.Join(dir, "target"), []byte("secret"), 0o600)
			os.Symlink("target", path)
		}, "is a symbolic link"},
		{"dangling symlink with O_CREATE", os.O_WRONLY | os.O_CREATE, func(dir, path string) {
			os.Symlink(filepath.Join(dir, "created"), path)
		}, "is a symbolic link"},
		{"FIFO for writing", os.O_WRONLY, func(dir, path string) { syscall.Mkfifo(path, 0o600) }, "is not a regular file (p---------)"},
		{"FIFO for reading", os.O_RDONLY, func(dir, path string) { syscall.Mkfifo(path, 0o600) }, "is not a regular file (p---------)"},
		{"directory", os.O_RDONLY, func(dir, path string) { os.Mkdir(path, 0o700) }, "is not a regular file (d---------)"},
		{"hard link", os.O_RDWR, func(dir, path string) {
			os.WriteFile(filepath.Join(dir, "other"), nil, 0o600)
			os.Link(filepath.Join(dir, "other"), path)
		}, "has 2 names"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "file")
			c.setup(dir, path)
			f, err := Open(path, c.flag, 0o600)
			if c.reason == "" {
				if err != nil {
					t.Fatalf("want opened, got %v", err)
				}
				f.Close()
				return
			}
			if f != nil {
				f.Close()
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrNotRegular) || !strings.HasPrefix(e.Reason, c.reason) || e.Path != path {
				t.Fatalf("want an *Error for %s %q…, got %v", path, c.reason, err)
			}
			if _, err := os.Lstat(filepath.Join(dir, "created")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a link's target was created")
			}
		})
	}
	if _, err := Open(filepath.Join(t.TempDir(), "no", "file"), os.O_RDONLY, 0); !errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrNotRegular) {
		t.Errorf("missing directory: want the open's own error, got %v", err)
	}
}
