package install

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/relkit/relkit/internal/relspec"
)

// StateFile is the name of the release state file in ROOT/releases/.
const StateFile = relspec.StateFile

// stateFileHeader opens every RELEASES file relkit writes.
const stateFileHeader = `# Installed releases, in the order they were installed: VERSION STATE
# STATE: unpacked (installed, not run since), current (running, not yet
# permanent), permanent (what bin/NAME starts), old (permanent before).
# Written by relkit upgrade and downgrade; edit only while neither runs.
`

// ParseReleases reads the content of a RELEASES file: lines "VERSION
// STATE" separated by blanks; empty lines and lines starting with '#' are
// ignored. Every problem is reported at once, with its line, as a
// [*StateFileError]: a line without exactly two fields, an invalid version
// or state, a version listed twice, a second current or permanent release.
func ParseReleases(data []byte) (*Releases, error) {
	var (
		rs       Releases
		problems []LineError
		seen     = map[string]int{}
		single   = map[State]int{}
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		line := strings.TrimSpace(text)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bad := func(format string, args ...any) {
			problems = append(problems, LineError{Line: n, Text: text, Reason: fmt.Sprintf(format, args...)})
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			bad("want two fields, VERSION STATE, got %d", len(fields))
			continue
		}
		vsn, st := fields[0], State(fields[1])
		if err := CheckVersion(vsn); err != nil {
			bad("invalid version: use letters, digits, '.', '_', '+' or '-'")
			continue
		}
		if !st.valid() {
			bad("unknown state %q", st)
			continue
		}
		if prev, ok := seen[vsn]; ok {
			bad("version %s is already listed on line %d", vsn, prev)
			continue
		}
		if st == Current || st == Permanent {
			if prev, ok := single[st]; ok {
				bad("a second %s release (line %d has one already)", st, prev)
				continue
			}
			single[st] = n
		}
		seen[vsn] = n
		rs.entries = append(rs.entries, Entry{Version: vsn, State: st})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: read %s: %v", ErrState, StateFile, err)
	}
	if len(problems) > 0 {
		return nil, &StateFileError{Lines: problems}
	}
	return &rs, nil
}

// MarshalText returns the RELEASES file content: a comment header
// explaining the format, then one "VERSION STATE" line per release.
func (rs *Releases) MarshalText() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(stateFileHeader)
	for _, e := range rs.entries {
		fmt.Fprintf(&b, "%s %s\n", e.Version, e.State)
	}
	return b.Bytes(), nil
}

// ReadReleases reads and parses the RELEASES file at file. A missing file
// is returned as an error matching fs.ErrNotExist.
func ReadReleases(file string) (*Releases, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read release states: %w", err)
	}
	rs, err := ParseReleases(data)
	if se, ok := err.(*StateFileError); ok {
		se.File = file
	}
	return rs, err
}

// WriteReleases replaces the RELEASES file at file atomically: the content
// goes to a temporary file in the same directory, is flushed to disk, and
// is renamed over file; the directory is then flushed too. A crash leaves
// either the old or the new file, never a mix.
func WriteReleases(file string, rs *Releases) error {
	data, err := rs.MarshalText()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(file, data, 0o644); err != nil {
		return fmt.Errorf("%w: write %s: %v", ErrState, file, err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary sibling of file, syncs it,
// renames it over file and syncs the directory.
func writeFileAtomic(file string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(file)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(file)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), file); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir flushes a directory's entries to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
