package pidfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/relkit/relkit/internal/pidfile"
)

func Example() {
	dir, _ := os.MkdirTemp("", "pidfile")
	defer os.RemoveAll(dir)

	lock, err := pidfile.TryLock(filepath.Join(dir, "hello.lock"))
	if err != nil {
		fmt.Println(err) // another instance runs
		return
	}
	defer lock.Unlock()

	path := filepath.Join(dir, "hello.pid")
	pidfile.Write(path, 4242)
	pid, _ := pidfile.Read(path)
	fmt.Println("pid", pid)

	removed, _ := pidfile.Remove(path, 1) // not ours: left alone
	fmt.Println("removed by another pid:", removed)
	removed, _ = pidfile.Remove(path, 4242)
	fmt.Println("removed by its owner:", removed)
	// Output:
	// pid 4242
	// removed by another pid: false
	// removed by its owner: true
}
