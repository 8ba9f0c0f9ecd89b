package logfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/relkit/relkit/internal/logfile"
)

func Example() {
	dir, _ := os.MkdirTemp("", "logfile")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "hello.log")

	w, _ := logfile.Open(path, logfile.Options{MaxSize: 16, Keep: 2})
	for _, line := range []string{"booting\n", "ready\n", "request 1\n", "request 2\n"} {
		w.Write([]byte(line))
	}
	w.Close()

	for _, p := range []string{path, logfile.Backup(path, 1), logfile.Backup(path, 2)} {
		b, _ := os.ReadFile(p)
		fmt.Printf("%s: %q\n", filepath.Base(p), b)
	}
	// Output:
	// hello.log: "request 2\n"
	// hello.log.1: "request 1\n"
	// hello.log.2: "booting\nready\n"
}
