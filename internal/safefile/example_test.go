package safefile_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/relkit/relkit/internal/safefile"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "safefile")
	defer os.RemoveAll(dir)
	link := filepath.Join(dir, "app.log")
	os.Symlink("/etc/passwd", link)

	_, err := safefile.Open(link, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	var e *safefile.Error
	fmt.Println(errors.As(err, &e), e.Reason)
	// Output: true is a symbolic link
}
