package securedir_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/relkit/relkit/internal/securedir"
)

func Example() {
	root, _ := os.MkdirTemp("", "release")
	defer os.RemoveAll(root)

	// RELEASE_TMP is created 0700 and checked, with every parent.
	tmp := filepath.Join(root, "tmp")
	fmt.Println(securedir.Ensure(tmp, os.Geteuid()))

	// A directory others may write is refused, and left as it is.
	shared := filepath.Join(root, "log")
	os.Mkdir(shared, 0o700)
	os.Chmod(shared, 0o775)
	err := securedir.Ensure(shared, os.Geteuid())
	var e *securedir.Error
	if errors.As(err, &e) {
		fmt.Println(e.Problem == securedir.WritableByOthers, e.Dir == shared)
	}
	st, _ := os.Stat(shared)
	fmt.Println(st.Mode().Perm())
	// Output:
	// <nil>
	// true true
	// -rwxrwxr-x
}
