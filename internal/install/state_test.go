package install_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/relkit/relkit/internal/install"
)

func TestParseReleasesRoundTrip(t *testing.T) {
	t.Parallel()
	in := "# a comment\n\n1.0.0 old\n  1.1.0\tpermanent  \n1.2.0-rc.1+build.5 unpacked\n2.0.0 current\n"
	rs, err := install.ParseReleases([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []install.Entry{
		{Version: "1.0.0", State: install.Old},
		{Version: "1.1.0", State: install.Permanent},
		{Version: "1.2.0-rc.1+build.5", State: install.Unpacked},
		{Version: "2.0.0", State: install.Current},
	}
	if got := rs.Entries(); !reflect.DeepEqual(want, got) {
		t.Fatalf("ParseReleases:\nwant %v\ngot  %v", want, got)
	}
	out, err := rs.MarshalText()
	must(t, err)
	if !strings.HasPrefix(string(out), "# ") || !strings.HasSuffix(string(out), "1.0.0 old\n1.1.0 permanent\n1.2.0-rc.1+build.5 unpacked\n2.0.0 current\n") {
		t.Errorf("MarshalText: want a comment header then one line per release, got\n%s", out)
	}
	again, err := install.ParseReleases(out)
	if err != nil || !reflect.DeepEqual(want, again.Entries()) {
		t.Errorf("parsing what MarshalText wrote: want %v, got %v (%v)", want, again.Entries(), err)
	}
}

func TestParseReleasesReportsEveryBadLine(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		"# header",       // 1
		"1.0.0 old",      // 2
		"1.1.0",          // 3: one field
		"1.2.0 perm",     // 4: unknown state
		"../x unpacked",  // 5: bad version
		"1.0.0 unpacked", // 6: duplicate
		"2.0.0 permanent",
		"2.1.0 permanent", // 8: second permanent
		"3.0.0 current",
		"3.1.0 current", // 10: second current
		"a b c",         // 11: three fields
	}, "\n")
	_, err := install.ParseReleases([]byte(in))
	var se *install.StateFileError
	if !errors.As(err, &se) || !errors.Is(err, install.ErrState) {
		t.Fatalf("ParseReleases: want *StateFileError matching ErrState, got %v", err)
	}
	want := []struct {
		line   int
		reason string
	}{
		{3, "want two fields"},
		{4, `unknown state "perm"`},
		{5, "invalid version"},
		{6, "already listed on line 2"},
		{8, "a second permanent release (line 7"},
		{10, "a second current release (line 9"},
		{11, "got 3"},
	}
	if len(se.Lines) != len(want) {
		t.Fatalf("want %d bad lines, got %d: %v", len(want), len(se.Lines), err)
	}
	for i, w := range want {
		if g := se.Lines[i]; g.Line != w.line || !strings.Contains(g.Reason, w.reason) {
			t.Errorf("problem %d: want line %d %q, got line %d %q", i, w.line, w.reason, g.Line, g.Reason)
		}
	}
	if msg := err.Error(); !strings.Contains(msg, "line 4 \"1.2.0 perm\"") || !strings.Contains(msg, "fix them by hand") {
		t.Errorf("message should quote each line and say what to do, got:\n%s", msg)
	}
}

func TestReadReleasesNamesTheFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), install.StateFile)
	must(t, os.WriteFile(file, []byte("1.0.0 gone\n"), 0o644))
	_, err := install.ReadReleases(file)
	if err == nil || !strings.HasPrefix(err.Error(), file+": ") || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("ReadReleases: want an error starting with the file name and giving the line, got %v", err)
	}
}

// TestTransitions drives the state changes an upgrade and a downgrade make.
func TestTransitions(t *testing.T) {
	t.Parallel()
	type step struct {
		op, vsn string
		want    string // the states after the step, "VSN STATE, ..."; or the error text
	}
	tests := []struct {
		name  string
		start string
		steps []step
	}{
		{"upgrade", "1.0.0 permanent", []step{
			{"unpack", "1.1.0", "1.0.0 permanent, 1.1.0 unpacked"},
			{"current", "1.1.0", "1.0.0 permanent, 1.1.0 current"},
			{"permanent", "1.1.0", "1.0.0 old, 1.1.0 permanent"},
		}},
		{"downgrade to an old release", "1.0.0 old\n1.1.0 permanent", []step{
			{"current", "1.0.0", "1.0.0 current, 1.1.0 permanent"},
			{"permanent", "1.0.0", "1.0.0 permanent, 1.1.0 old"},
		}},
		{"switch back before making permanent", "1.0.0 permanent\n1.1.0 current", []step{
			{"current", "1.0.0", "1.0.0 permanent, 1.1.0 unpacked"},
		}},
		{"a second upgrade replaces the current one", "1.0.0 permanent\n1.1.0 current\n1.2.0 unpacked", []step{
			{"current", "1.2.0", "1.0.0 permanent, 1.1.0 unpacked, 1.2.0 current"},
			{"permanent", "1.2.0", "1.0.0 old, 1.1.0 unpacked, 1.2.0 permanent"},
		}},
		{"unpack again", "1.0.0 old\n1.1.0 permanent\n1.2.0 unpacked", []step{
			{"unpack", "1.0.0", "1.0.0 unpacked, 1.1.0 permanent, 1.2.0 unpacked"},
			{"unpack", "1.2.0", "1.0.0 unpacked, 1.1.0 permanent, 1.2.0 unpacked"},
			{"unpack", "1.1.0", "error: release 1.1.0 is permanent, it cannot be unpacked again"},
		}},
		{"first permanent", "", []step{
			{"unpack", "1.0.0", "1.0.0 unpacked"},
			{"permanent", "1.0.0", "1.0.0 permanent"},
			{"permanent", "1.0.0", "1.0.0 permanent"},
		}},
		{"not installed", "1.0.0 permanent", []step{
			{"current", "2.0.0", "error: release 2.0.0 is not listed in RELEASES: unpack it first"},
			{"permanent", "2.0.0", "error: release 2.0.0 is not listed"},
			{"unpack", "../2", "error: invalid release name or version"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs, err := install.ParseReleases([]byte(tt.start))
			must(t, err)
			for _, s := range tt.steps {
				before := rs.Clone()
				var err error
				switch s.op {
				case "unpack":
					err = rs.MarkUnpacked(s.vsn)
				case "current":
					err = rs.MakeCurrent(s.vsn)
				case "permanent":
					err = rs.MakePermanent(s.vsn)
				}
				if wantErr, ok := strings.CutPrefix(s.want, "error: "); ok {
					if err == nil || !strings.Contains(err.Error(), wantErr) {
						t.Fatalf("%s %s: want error containing %q, got %v", s.op, s.vsn, wantErr, err)
					}
					if !reflect.DeepEqual(before.Entries(), rs.Entries()) {
						t.Fatalf("%s %s failed but changed the states: %v -> %v", s.op, s.vsn, before.Entries(), rs.Entries())
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s %s: %v", s.op, s.vsn, err)
				}
				if got := format(rs); got != s.want {
					t.Fatalf("after %s %s: want %s, got %s", s.op, s.vsn, s.want, got)
				}
			}
		})
	}
}

func format(rs *install.Releases) string {
	var parts []string
	for _, e := range rs.Entries() {
		parts = append(parts, fmt.Sprintf("%s %s", e.Version, e.State))
	}
	return strings.Join(parts, ", ")
}

func TestWriteReleases(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, install.StateFile)
	rs, err := install.ParseReleases([]byte("1.0.0 permanent\n"))
	must(t, err)
	must(t, install.WriteReleases(file, rs))
	must(t, rs.MarkUnpacked("1.1.0"))
	must(t, install.WriteReleases(file, rs))
	got, err := install.ReadReleases(file)
	if err != nil || format(got) != "1.0.0 permanent, 1.1.0 unpacked" {
		t.Fatalf("ReadReleases after WriteReleases: want 1.0.0 permanent, 1.1.0 unpacked, got %s (%v)", format(got), err)
	}
	info, err := os.Stat(file)
	if err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("RELEASES mode: want 0644, got %v (%v)", info.Mode(), err)
	}
	names, _ := os.ReadDir(dir)
	if len(names) != 1 {
		t.Errorf("WriteReleases left temporary files: %v", names)
	}
}

func TestWriteReleasesFailureKeepsTheOldFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, install.StateFile)
	must(t, os.WriteFile(file, []byte("1.0.0 permanent\n"), 0o644))
	// A directory where the temporary file should go makes the write fail
	// even for root, which ignores permissions.
	rs, _ := install.ParseReleases([]byte("1.1.0 permanent\n"))
	err := install.WriteReleases(filepath.Join(file, "RELEASES"), rs)
	if !errors.Is(err, install.ErrState) {
		t.Errorf("WriteReleases into a non-directory: want ErrState, got %v", err)
	}
	if got := readFile(t, file); got != "1.0.0 permanent\n" {
		t.Errorf("a failed write changed the file: %q", got)
	}
}
