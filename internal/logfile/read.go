package logfile

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Files returns the log files of the log at path that exist, oldest first:
// the rotated ones from the highest number down (NAME.N … NAME.1), then
// NAME itself. It returns none, and no error, when there are none.
func Files(path string) ([]string, error) {
	matches, err := filepath.Glob(globEscape(path) + ".*")
	if err != nil {
		return nil, err
	}
	type backup struct {
		n    int
		path string
	}
	var backups []backup
	for _, m := range matches {
		n, err := strconv.Atoi(strings.TrimPrefix(m, path+"."))
		if err == nil && n > 0 && m == Backup(path, n) {
			backups = append(backups, backup{n, m})
		}
	}
	sort.Slice(backups, func(i, j int) bool { return backups[i].n > backups[j].n })
	out := make([]string, 0, len(backups)+1)
	for _, b := range backups {
		out = append(out, b.path)
	}
	if _, err := os.Lstat(path); err == nil {
		out = append(out, path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return out, nil
}

// OpenRead opens the log file at path for reading, with the checks [Open]
// makes: never through a link, a FIFO or a hard link (an error matching
// [ErrNotRegular]).
func OpenRead(path string) (*os.File, error) {
	return openFile(path, os.O_RDONLY, 0)
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
