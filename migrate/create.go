package migrate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var createName = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)

// sequentialLimit separates sequential versions (001, 002) from timestamps
// (20250102150405): a directory whose versions are all below it keeps
// numbering sequentially.
const sequentialLimit = 1_000_000_000

// Create writes the next migration pair, VERSION_name.up.sql and
// VERSION_name.down.sql, into dir (created if missing) and returns their
// paths. VERSION is now as a UTC timestamp, 20250102150405, or, when every
// migration already in dir is numbered sequentially (001, 002, ...), the
// next number with the same zero padding; it is always newer than every
// migration in dir. name is lowercase words joined by underscores
// ("add_clicks"); spaces and dashes are turned into underscores. Existing
// files are never overwritten. Create is a development convenience: the
// binary embeds dir when it is built.
func Create(dir, name string, now time.Time) (up, down string, err error) {
	name = strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(name)))
	if !createName.MatchString(name) {
		return "", "", fmt.Errorf("migrate: migration name %q: use lowercase letters, digits and underscores, e.g. add_clicks", name)
	}
	ms, err := List(os.DirFS(dir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", "", err
	}
	version := nextVersion(ms, now)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("migrate: create %s: %w", dir, err)
	}
	base := filepath.Join(dir, version+"_"+name)
	up, down = base+".up.sql", base+".down.sql"
	header := "-- " + version + "_" + name + "\n"
	if err := writeNew(up, header+"-- The schema change. PostgreSQL and SQLite run this file in one transaction.\n"); err != nil {
		return "", "", err
	}
	if err := writeNew(down, header+"-- Revert what the up file does, so that rollback can undo it.\n"); err != nil {
		os.Remove(up)
		return "", "", err
	}
	return up, down, nil
}

func nextVersion(ms []Migration, now time.Time) string {
	stamp := now.UTC().Format("20060102150405")
	if len(ms) == 0 {
		return stamp
	}
	last := ms[len(ms)-1]
	if last.Version < sequentialLimit {
		width := len(last.Up) - len(strings.TrimLeft(last.Up, "0123456789"))
		return fmt.Sprintf("%0*d", width, last.Version+1)
	}
	if ts, _ := strconv.ParseUint(stamp, 10, 64); uint(ts) > last.Version {
		return stamp
	}
	return strconv.FormatUint(uint64(last.Version+1), 10)
}

func writeNew(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return fmt.Errorf("migrate: write %s: %w", path, err)
	}
	return f.Close()
}
