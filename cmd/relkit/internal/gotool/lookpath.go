package gotool

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// lookPath finds file in the directories of pathList (a PATH value, not
// the process's), like exec.LookPath does with the process's PATH.
func lookPath(file, pathList string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New(file + ": not found in PATH")
}
