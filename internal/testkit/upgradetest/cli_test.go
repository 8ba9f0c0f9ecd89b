package upgradetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"

	_ "modernc.org/sqlite" // markDirty
)

// The commands a fleet's configuration management calls: unpack, switch,
// releases -json, releases prune, downgrade without a version. Each says
// in its exit code and one line of JSON what it did, and a second run
// reports that nothing changed.

var (
	helloV3 = &build{pkg: "./examples/hello", version: "3.0.0"}
	helloV4 = &build{pkg: "./examples/hello", version: "4.0.0"}
)

// runJSON runs bin/NAME with args, wants exit 0 and stdout to be one line
// of JSON, and decodes it into v.
func (s *system) runJSON(v any, args ...string) {
	s.t.Helper()
	code, stdout, stderr := s.run(args...)
	if code != 0 {
		s.t.Fatalf("%s %s: want exit 0, got %d\nstdout: %s\nstderr: %s\nlog:\n%s", s.name, strings.Join(args, " "), code, stdout, stderr, s.logs)
	}
	if err := decodeLine(stdout, v); err != nil {
		s.t.Fatalf("%s %s: stdout is not the JSON object wanted: %v", s.name, strings.Join(args, " "), err)
	}
}

// decodeLine decodes stdout, which must be one line holding one JSON
// object with no key v lacks, into v: what a -json command prints, on
// failure too.
func decodeLine(stdout string, v any) error {
	if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
		return fmt.Errorf("want one line of JSON, got %q", stdout)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%v: %s", err, stdout)
	}
	return nil
}

// unpackFailed is what unpack -json prints when it fails.
type unpackFailed struct {
	unpackOut
	Error string `json:"error"`
}

type unpackOut struct {
	Version string `json:"version"`
	Changed bool   `json:"changed"`
	Path    string `json:"path"`
}

type switchOut struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Changed    bool   `json:"changed"`
	Direction  string `json:"direction"`
	MigratedTo int    `json:"migrated_to"`
}

type releasesOut struct {
	Running         *string  `json:"running"`
	DatabaseVersion *int     `json:"database_version"`
	DatabaseDirty   *bool    `json:"database_dirty"`
	TrustedKeys     []string `json:"trusted_keys"`
	Releases        []struct {
		Version         string  `json:"version"`
		State           string  `json:"state"`
		Running         bool    `json:"running"`
		Built           *string `json:"built"`
		NewestMigration int     `json:"newest_migration"`
	} `json:"releases"`
}

type pruneOut struct {
	Removed []string `json:"removed"`
	Kept    []string `json:"kept"`
}

// TestUnpack stages 2.0.0 on a root where nothing runs, twice: the first
// run unpacks it, the second changes nothing; bin/hello still starts
// 1.0.0. A different build of 2.0.0 is refused, naming both.
func TestUnpack(t *testing.T) {
	t.Parallel()
	v1, v2, other := helloV1.get(t), helloV2.get(t), crashV2.get(t)
	s := install(t, "hello", v1)
	s.put("2.0.0", v2)

	var first, second unpackOut
	s.runJSON(&first, "unpack", "2.0.0", "-json")
	if want := (unpackOut{"2.0.0", true, filepath.Join(s.root, "releases", "2.0.0")}); first != want {
		t.Errorf("unpack 2.0.0 -json: want %+v, got %+v", want, first)
	}
	if _, err := os.Stat(filepath.Join(s.root, "releases", "2.0.0", "hello")); err != nil {
		t.Errorf("unpack 2.0.0: want releases/2.0.0/hello: %v", err)
	}
	if want, got := []string{"1.0.0 permanent", "2.0.0 unpacked"}, s.stateLines(); !slices.Equal(want, got) {
		t.Errorf("RELEASES after unpack: want %q, got %q", want, got)
	}
	before := s.snapshot()
	s.runJSON(&second, "unpack", "2.0.0", "-json")
	if !reflect.DeepEqual(second, unpackOut{"2.0.0", false, first.Path}) {
		t.Errorf("unpack 2.0.0 again: want changed false, got %+v", second)
	}
	if d := testkit.Diff(before, s.snapshot()); d != "" {
		t.Errorf("the second unpack changed the root:\n%s", d)
	}
	if got := s.mustRun("unpack", "2.0.0"); !strings.Contains(got, "nothing to do") {
		t.Errorf("unpack 2.0.0 a third time, without -json: want nothing to do, got %q", got)
	}
	if target, _ := os.Readlink(s.bin()); target != "../releases/1.0.0/hello" {
		t.Errorf("bin/hello after unpack: want ../releases/1.0.0/hello, got %q", target)
	}
	// The release that runs is unpacked already, with or without its
	// tarball in releases/1.0.0/.
	var same unpackOut
	s.runJSON(&same, "unpack", "1.0.0", "-json")
	if same.Changed {
		t.Errorf("unpack 1.0.0, installed by tar -xzf: want changed false, got %+v", same)
	}

	s.start()
	if got := s.body("/"); got != "Hello from hello 1.0.0\n" {
		t.Errorf("after unpack 2.0.0: want 1.0.0 serving, got %q", got)
	}

	// No tarball waiting: the advice is unpack's, not upgrade's (which
	// would switch).
	if code, _, stderr := s.run("unpack", "5.0.0"); code != 1 || !strings.Contains(stderr, "\nTry: hello unpack 5.0.0 -tarball PATH\n") || strings.Contains(stderr, "upgrade") {
		t.Errorf("unpack of a release without its tarball: want exit 1 and Try: hello unpack 5.0.0 -tarball PATH, got %d\n%s", code, stderr)
	}

	// Another build of 2.0.0: refused, nothing changed.
	s.put("2.0.0", other)
	before = s.snapshot()
	code, stdout, stderr := s.run("unpack", "2.0.0", "-json")
	var failed unpackFailed
	if err := decodeLine(stdout, &failed); code != 1 || err != nil {
		t.Errorf("unpack of another build of 2.0.0: want exit 1 and one line of JSON, got %d: %v", code, err)
	} else if want := (unpackOut{"2.0.0", false, first.Path}); failed.unpackOut != want || !strings.Contains(failed.Error, "release.json SHA-256 ") {
		t.Errorf("unpack of another build of 2.0.0 -json: want %+v and the error naming the checksums, got %s", want, stdout)
	}
	if strings.Count(stderr, "release.json SHA-256 ") != 2 || !strings.Contains(stderr, "from another build") {
		t.Errorf("unpack of another build of 2.0.0: want both builds' checksums named, got\n%s", stderr)
	}
	if d := testkit.Diff(before, s.snapshot()); d != "" {
		t.Errorf("the refused unpack changed the root:\n%s", d)
	}
	if got := s.body("/"); got != "Hello from hello 1.0.0\n" {
		t.Errorf("after the refused unpack: want 1.0.0 serving, got %q", got)
	}
}

// TestUnpackTampered: a tarball changed after it was built is refused
// (exit 1) and nothing is unpacked, whether its .sha256 was left alone or
// recomputed.
func TestUnpackTampered(t *testing.T) {
	t.Parallel()
	v1, v2 := helloV1.get(t), helloV2.get(t)
	for _, tc := range []struct {
		name, want string
		resum      bool
	}{
		{"checksum kept", "does not match its checksum", false},
		{"binary changed, checksum recomputed", "release.json", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := install(t, "hello", v1)
			data, err := os.ReadFile(v2)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := os.ReadFile(v2 + ".sha256")
			if err != nil {
				t.Fatal(err)
			}
			if tc.resum {
				// The binary changed, the tarball repacked and its
				// checksum made afresh: release.json still tells.
				data = repack(t, data, "releases/2.0.0/hello", func(b []byte) []byte { return append(b, "#"...) })
			} else {
				// One byte in the middle of the compressed stream.
				data[len(data)/2] ^= 0x55
			}
			dir := filepath.Join(s.root, "releases", "2.0.0")
			tarball := filepath.Join(dir, filepath.Base(v2))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.resum {
				testkit.WriteWithChecksum(t, tarball, data, data)
			} else {
				if err := os.WriteFile(tarball, data, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(tarball+".sha256", sum, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			before := s.snapshot()
			code, stdout, stderr := s.run("unpack", "2.0.0", "-json")
			var failed unpackFailed
			if err := decodeLine(stdout, &failed); code != 1 || err != nil {
				t.Errorf("unpack of a tampered tarball: want exit 1 and one line of JSON, got %d: %v\n%s", code, err, stderr)
			} else if failed.Changed || failed.Version != "2.0.0" || !strings.Contains(failed.Error, tc.want) {
				t.Errorf("unpack of a tampered tarball -json: want changed false and an error saying %q, got %s", tc.want, stdout)
			}
			t.Logf("unpack of the tampered tarball: %s", stderr)
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr: want %q, got\n%s", tc.want, stderr)
			}
			if d := testkit.Diff(before, s.snapshot()); d != "" {
				t.Errorf("the refused unpack changed the root:\n%s", d)
			}
		})
	}
}

// repack returns the gzip-compressed tarball data with the content of the
// file named name changed by edit.
func repack(t *testing.T, data []byte, name string, edit func([]byte) []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	found := false
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == name {
			body, found = edit(body), true
			hdr.Size = int64(len(body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatalf("the tarball holds no %s", name)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestSwitch: switch 2.0.0 upgrades, switch 2.0.0 again has nothing to do,
// switch 1.0.0 downgrades; each says so in one line of JSON.
func TestSwitch(t *testing.T) {
	t.Parallel()
	v1, v2 := helloV1.get(t), helloV2.get(t)
	s := install(t, "hello", v1)
	s.start()
	pid := s.pid()
	s.put("2.0.0", v2)

	steps := []struct {
		vsn  string
		want switchOut
	}{
		{"2.0.0", switchOut{From: "1.0.0", To: "2.0.0", Changed: true, Direction: "upgrade"}},
		{"2.0.0", switchOut{From: "2.0.0", To: "2.0.0", Changed: false, Direction: "none"}},
		{"1.0.0", switchOut{From: "2.0.0", To: "1.0.0", Changed: true, Direction: "downgrade"}},
		{"1.0.0", switchOut{From: "1.0.0", To: "1.0.0", Changed: false, Direction: "none"}},
	}
	for _, st := range steps {
		var got switchOut
		s.runJSON(&got, "switch", st.vsn, "-json")
		if got != st.want {
			t.Errorf("switch %s -json: want %+v, got %+v", st.vsn, st.want, got)
		}
		if want, body := "Hello from hello "+st.vsn+"\n", s.body("/"); body != want {
			t.Errorf("after switch %s: want %q, got %q", st.vsn, want, body)
		}
		if target, _ := os.Readlink(s.bin()); target != "../releases/"+st.vsn+"/hello" {
			t.Errorf("bin/hello after switch %s: got %q", st.vsn, target)
		}
	}
	if got := s.mustRun("pid"); got != fmt.Sprintf("%d\n", pid) {
		t.Errorf("pid after the switches: want %d, got %q", pid, got)
	}
	if want, got := []string{"1.0.0 permanent", "2.0.0 old"}, s.stateLines(); !slices.Equal(want, got) {
		t.Errorf("RELEASES: want %q, got %q", want, got)
	}
	// Without -json the prose goes to stdout.
	if got := s.mustRun("switch", "1.0.0"); !strings.Contains(got, "1.0.0 is running already; nothing to do") {
		t.Errorf("switch 1.0.0 without -json: got %q", got)
	}
	// A release that is neither installed nor waiting as a tarball: exit
	// 1, and on stdout one line of JSON saying so, nothing changed.
	code, stdout, stderr := s.run("switch", "9.9.9", "-json")
	var failed struct {
		switchOut
		Error string `json:"error"`
	}
	if err := decodeLine(stdout, &failed); code != 1 || err != nil || !strings.Contains(stderr, "9.9.9") {
		t.Errorf("switch to a missing release: want exit 1 naming it on stderr and one line of JSON, got %d: %v\n%s", code, err, stderr)
	} else if want := (switchOut{From: "1.0.0", To: "9.9.9", Direction: "upgrade"}); failed.switchOut != want || !strings.Contains(failed.Error, "9.9.9") || strings.Contains(stdout, "Error:") {
		t.Errorf("switch to a missing release -json: want %+v and an error naming 9.9.9, got %s", want, stdout)
	}
}

// TestReleasesJSON: links 1.0.0 runs on SQLite at schema version 2, with
// 2.0.0 (migration 3) unpacked; releases -json and releases give each
// release's newest migration and the database's version, and switch
// 2.0.0 migrates to 3 first. A database that cannot be opened does not
// fail releases.
func TestReleasesJSON(t *testing.T) {
	t.Parallel()
	v1, v2 := linksV1.get(t), linksV2.get(t)
	s := install(t, "links", v1)
	db := "DATABASE_URL=sqlite://" + filepath.Join(s.root, "links.db")
	s.env = append(s.env, db, "MIGRATE_ON_START=false")
	s.mustRun("migrate")

	// Nothing runs yet.
	var out releasesOut
	s.runJSON(&out, "releases", "-json")
	if out.Running != nil || out.DatabaseVersion == nil || *out.DatabaseVersion != 2 || len(out.Releases) != 1 || out.Releases[0].Running {
		t.Errorf("releases -json before start: want running null, database_version 2, 1.0.0 not running; got %+v", out)
	}
	if out.TrustedKeys == nil || len(out.TrustedKeys) != 0 {
		t.Errorf("releases -json of a release without trusted keys: want trusted_keys [], got %#v", out.TrustedKeys)
	}
	if got := s.mustRun("releases"); !strings.Contains(got, "signatures: releases are not signature-checked") {
		t.Errorf("releases of a release without trusted keys must say that releases are not signature-checked, got\n%s", got)
	}

	s.start()
	s.put("2.0.0", v2)
	s.mustRun("unpack", "2.0.0")
	s.runJSON(&out, "releases", "-json")
	if out.Running == nil || *out.Running != "1.0.0" {
		t.Errorf("running: want 1.0.0, got %v", out.Running)
	}
	if out.DatabaseVersion == nil || *out.DatabaseVersion != 2 || out.DatabaseDirty == nil || *out.DatabaseDirty {
		t.Errorf("database: want version 2, clean; got %v %v", out.DatabaseVersion, out.DatabaseDirty)
	}
	type rel struct {
		version, state string
		running        bool
		newest         int
	}
	var got []rel
	for _, r := range out.Releases {
		got = append(got, rel{r.Version, r.State, r.Running, r.NewestMigration})
		if r.Built == nil {
			t.Errorf("release %s: want its build time, got null", r.Version)
		} else if _, err := time.Parse(time.RFC3339, *r.Built); err != nil {
			t.Errorf("release %s: built %q is not RFC 3339: %v", r.Version, *r.Built, err)
		}
	}
	if want := []rel{{"1.0.0", "permanent", true, 2}, {"2.0.0", "unpacked", false, 3}}; !slices.Equal(want, got) {
		t.Errorf("releases: want %+v, got %+v", want, got)
	}
	plain := s.mustRun("releases")
	for _, want := range []string{"MIGRATION", "database: version 2\n"} {
		if !strings.Contains(plain, want) {
			t.Errorf("releases: want %q in\n%s", want, plain)
		}
	}
	if lines := strings.Split(plain, "\n"); len(lines) < 3 || !strings.Contains(lines[1], "1.0.0") || !strings.Contains(lines[2], " 3 ") {
		t.Errorf("releases: want 1.0.0 and then 2.0.0 with migration 3, got\n%s", plain)
	}

	var sw switchOut
	s.runJSON(&sw, "switch", "2.0.0", "-json")
	if want := (switchOut{From: "1.0.0", To: "2.0.0", Changed: true, Direction: "upgrade", MigratedTo: 3}); sw != want {
		t.Errorf("switch 2.0.0 -json: want %+v, got %+v", want, sw)
	}
	s.runJSON(&out, "releases", "-json")
	if out.DatabaseVersion == nil || *out.DatabaseVersion != 3 {
		t.Errorf("releases -json after the switch: want database_version 3, got %v", out.DatabaseVersion)
	}

	// A migration that failed midway leaves the version dirty.
	markDirty(t, filepath.Join(s.root, "links.db"), true)
	s.runJSON(&out, "releases", "-json")
	if out.DatabaseVersion == nil || *out.DatabaseVersion != 3 || out.DatabaseDirty == nil || !*out.DatabaseDirty {
		t.Errorf("releases -json on a dirty database: want version 3, dirty; got %v %v", out.DatabaseVersion, out.DatabaseDirty)
	}
	if plain := s.mustRun("releases"); !strings.Contains(plain, "database: version 3, dirty") {
		t.Errorf("releases on a dirty database: want it said, got\n%s", plain)
	}
	markDirty(t, filepath.Join(s.root, "links.db"), false)

	// A database that cannot be opened: the list, a note on stderr.
	s.env = append(s.env, "DATABASE_URL=sqlite://"+filepath.Join(s.root, "no", "such", "dir", "x.db"), "MIGRATE_LOCK_TIMEOUT=2s")
	began := time.Now()
	code, stdout, stderr := s.run("releases", "-json")
	took := time.Since(began)
	if code != 0 {
		t.Fatalf("releases -json with a database that cannot be opened: want exit 0, got %d\n%s", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || out.DatabaseVersion != nil || out.DatabaseDirty != nil || len(out.Releases) != 2 {
		t.Errorf("releases -json with a database that cannot be opened: want the releases and database_version null, got %s (%v)", stdout, err)
	}
	if !strings.Contains(stderr, "schema version is not shown") {
		t.Errorf("stderr: want a note that the database's version is not shown, got\n%s", stderr)
	}
	t.Logf("releases -json with a database that cannot be opened took %v", took)

	// A database that refuses the connection: its password is in no
	// output.
	const password = "s3cret-pw-4711"
	for _, url := range []string{"postgres://app:" + password + "@127.0.0.1:1/links", "mysql://app:" + password + "@127.0.0.1:1/links"} {
		s.env = append(s.env, "DATABASE_URL="+url, "MIGRATE_LOCK_TIMEOUT=1s")
		for _, args := range [][]string{{"releases", "-json"}, {"releases"}} {
			code, stdout, stderr := s.run(args...)
			if code != 0 || !strings.Contains(stderr, "schema version is not shown") {
				t.Errorf("%v with %s refusing connections: want exit 0 and a note, got %d\n%s", args, url[:strings.Index(url, ":")], code, stderr)
			}
			if strings.Contains(stdout+stderr, password) {
				t.Errorf("%v printed the database password:\n%s%s", args, stdout, stderr)
			}
		}
	}
}

// TestSwitchFailsAfterMigrating: switch 2.0.0 -json to a 2.0.0 that
// migrates and is then never ready, and to one whose migration 003
// applies and 004 fails, exits 1 and says on stdout that something
// changed all the same (migrated_to 3), with the error; 1.0.0 keeps
// serving on database version 3.
func TestSwitchFailsAfterMigrating(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		v2   *build
		env  []string
	}{
		{"never ready", linksV2NotReady, []string{"UPGRADE_TIMEOUT=5s"}},
		{"migration 004 fails", linksV2BadMigration, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v1, v2 := linksV1.get(t), tc.v2.get(t)
			s := install(t, "links", v1)
			s.env = append(append(s.env, "DATABASE_URL=sqlite://"+filepath.Join(s.root, "links.db"), "MIGRATE_ON_START=false"), tc.env...)
			s.mustRun("migrate")
			s.start()
			s.put("2.0.0", v2)
			code, stdout, stderr := s.run("switch", "2.0.0", "-json")
			var failed struct {
				switchOut
				Error string `json:"error"`
			}
			if err := decodeLine(stdout, &failed); code != 1 || err != nil {
				t.Fatalf("switch to a 2.0.0 that fails: want exit 1 and one line of JSON, got %d: %v\n%s", code, err, stderr)
			}
			if want := (switchOut{From: "1.0.0", To: "2.0.0", Changed: true, Direction: "upgrade", MigratedTo: 3}); failed.switchOut != want || failed.Error == "" {
				t.Errorf("switch 2.0.0 -json after migrating: want %+v and the error, got %s\n%s", want, stdout, stderr)
			}
			var out releasesOut
			s.runJSON(&out, "releases", "-json")
			if out.Running == nil || *out.Running != "1.0.0" || out.DatabaseVersion == nil || *out.DatabaseVersion != 3 {
				t.Errorf("after the failed switch: want 1.0.0 running on database version 3, got running %v, database %v", out.Running, out.DatabaseVersion)
			}
		})
	}
}

// linksV2BadMigration is links 2.0.0 whose migration 003 applies and
// whose migration 004 fails.
var linksV2BadMigration = &build{version: "2.0.0", src: func() (string, error) {
	dir, err := linksNextVersion()
	if err != nil {
		return "", err
	}
	for name, sql := range map[string]string{
		"004_broken.up.sql":   "INSERT INTO no_such_table VALUES (1);\n",
		"004_broken.down.sql": "SELECT 1;\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, "migrations", name), []byte(sql), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}}

// markDirty sets the dirty flag of the SQLite database file, as a
// migration that failed midway leaves it.
func markDirty(t *testing.T, file string, dirty bool) {
	t.Helper()
	db, err := sql.Open("sqlite", file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE schema_migrations SET dirty = ?", dirty); err != nil {
		t.Fatal(err)
	}
}

// TestPrune: with RELEASE_KEEP=1 every switch prunes, so the releases on
// disk stay bounded however many follow; releases prune -keep N keeps the
// newest N and the running, permanent and previous ones; downgrade
// without a version goes to the previous release.
func TestPrune(t *testing.T) {
	t.Parallel()
	builds := []*build{helloV1, helloV2, helloV3, helloV4}
	tarballs := make([]string, len(builds))
	for i, b := range builds {
		tarballs[i] = b.get(t)
	}
	s := install(t, "hello", tarballs[0], "RELEASE_KEEP=1")
	s.start()
	dirs := func() []string {
		t.Helper()
		es, err := os.ReadDir(filepath.Join(s.root, "releases"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			if e.IsDir() {
				out = append(out, e.Name())
			}
		}
		return out
	}
	for i, b := range builds[1:] {
		s.put(b.version, tarballs[i+1])
		out := s.mustRun("upgrade", b.version)
		prev := builds[i].version
		if want := []string{prev, b.version}; !slices.Equal(dirs(), want) {
			t.Errorf("after upgrade %s with RELEASE_KEEP=1: want releases/ to hold %q (the running and the previous release), got %q\n%s", b.version, want, dirs(), out)
		}
		if i > 0 && !strings.Contains(out, "Removed old release(s) "+builds[i-1].version+" (RELEASE_KEEP=1)\n") {
			t.Errorf("upgrade %s: want it to say it removed %s, got\n%s", b.version, builds[i-1].version, out)
		}
	}
	if want, got := []string{"3.0.0 old", "4.0.0 permanent"}, s.stateLines(); !slices.Equal(want, got) {
		t.Errorf("RELEASES after 1.0.0 -> 4.0.0 with RELEASE_KEEP=1: want %q, got %q", want, got)
	}

	// Stage 1.0.0 and 2.0.0 again (RELEASE_KEEP=0: no automatic prune),
	// then prune by hand.
	s.env = append(s.env, "RELEASE_KEEP=0")
	for i, b := range builds[:2] {
		s.put(b.version, tarballs[i])
		s.mustRun("unpack", b.version)
	}
	if want, got := []string{"3.0.0 old", "4.0.0 permanent", "1.0.0 unpacked", "2.0.0 unpacked"}, s.stateLines(); !slices.Equal(want, got) {
		t.Fatalf("RELEASES after staging: want %q, got %q", want, got)
	}
	if code, _, stderr := s.run("releases", "prune"); code != 64 || !strings.Contains(stderr, "-keep") {
		t.Errorf("releases prune with RELEASE_KEEP=0 and no -keep: want exit 64 naming -keep, got %d\n%s", code, stderr)
	}
	var pr pruneOut
	s.runJSON(&pr, "releases", "prune", "-keep", "1", "-json")
	// Newest 1: 2.0.0; running and permanent 4.0.0; previous 3.0.0.
	if want := (pruneOut{Removed: []string{"1.0.0"}, Kept: []string{"3.0.0", "4.0.0", "2.0.0"}}); !reflect.DeepEqual(pr, want) {
		t.Errorf("releases prune -keep 1 -json: want %+v, got %+v", want, pr)
	}
	if want := []string{"2.0.0", "3.0.0", "4.0.0"}; !slices.Equal(dirs(), want) {
		t.Errorf("releases/ after prune: want %q, got %q", want, dirs())
	}
	s.runJSON(&pr, "releases", "prune", "-keep", "1", "-json")
	if want := (pruneOut{Removed: []string{}, Kept: []string{"3.0.0", "4.0.0", "2.0.0"}}); !reflect.DeepEqual(pr, want) {
		t.Errorf("releases prune -keep 1 -json again: want nothing removed, %+v, got %+v", want, pr)
	}
	s.runJSON(&pr, "releases", "prune", "-keep", "0", "-json")
	if want := (pruneOut{Removed: []string{"2.0.0"}, Kept: []string{"3.0.0", "4.0.0"}}); !reflect.DeepEqual(pr, want) {
		t.Errorf("releases prune -keep 0 -json: want only the running and previous releases kept, %+v, got %+v", want, pr)
	}

	// Another process changing the releases: prune fails (exit 1), and
	// -json says so on stdout, nothing removed.
	lock, err := os.Open(filepath.Join(s.root, "releases"))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := s.run("releases", "prune", "-keep", "0", "-json")
	lock.Close()
	var busy struct {
		pruneOut
		Error string `json:"error"`
	}
	if err := decodeLine(stdout, &busy); code != 1 || err != nil || len(busy.Removed) != 0 || !strings.Contains(busy.Error, "prune is running") {
		t.Errorf("releases prune -json while the releases are locked: want exit 1 and JSON naming the error, got %d: %v\n%s", code, err, stderr)
	}

	// downgrade without a version: the previous release, 3.0.0.
	out := s.mustRun("downgrade")
	if !strings.HasPrefix(out, "Downgrading to the previous release, 3.0.0\n") || !strings.Contains(out, "Made release 3.0.0 permanent\n") {
		t.Errorf("downgrade without a version: want a switch to 3.0.0, got\n%s", out)
	}
	if got := s.body("/"); got != "Hello from hello 3.0.0\n" {
		t.Errorf("after downgrade: want 3.0.0 serving, got %q", got)
	}
	// 4.0.0, which 3.0.0 was switched from, is listed after it, so it is
	// not the previous one; it stays all the same: the supervisor switches
	// back to it if 3.0.0 crashes during probation.
	s.runJSON(&pr, "releases", "prune", "-keep", "0", "-json")
	if want := (pruneOut{Removed: []string{}, Kept: []string{"3.0.0", "4.0.0"}}); !reflect.DeepEqual(pr, want) {
		t.Errorf("releases prune -keep 0 -json after downgrading from 4.0.0: want 4.0.0 kept, %+v, got %+v", want, pr)
	}

	// Now 3.0.0 is permanent and listed first: there is no previous one.
	before := s.snapshot()
	code, stdout, stderr = s.run("downgrade")
	if code != 1 || !strings.Contains(stderr, "name the release to go to\nTry: hello downgrade VSN") {
		t.Errorf("downgrade without a version and no previous release: want exit 1 saying so, got %d %q\n%s", code, stdout, stderr)
	}
	if d := testkit.Diff(before, s.snapshot()); d != "" {
		t.Errorf("the refused downgrade changed the root:\n%s", d)
	}
}

// signingKey is a minisign key pair relkit keygen made, shared by the
// signed builds: signed hello releases trust its public key.
var signingKey struct {
	once     sync.Once
	dir, pub string
	err      error
}

func signingKeyFile() (secret, pub string, err error) {
	k := &signingKey
	k.once.Do(func() {
		if k.dir, k.err = os.MkdirTemp("", "relkit-key-"); k.err != nil {
			return
		}
		tmpDirs.Lock()
		tmpDirs.dirs = append(tmpDirs.dirs, k.dir)
		tmpDirs.Unlock()
		out, err := exec.Command(relkitBin, "keygen", "-unencrypted", filepath.Join(k.dir, "release.key")).CombinedOutput()
		if err != nil {
			k.err = fmt.Errorf("relkit keygen: %v\n%s", err, out)
			return
		}
		b, err := os.ReadFile(filepath.Join(k.dir, "release.key.pub"))
		if err != nil {
			k.err = err
			return
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		k.pub = lines[len(lines)-1]
	})
	return filepath.Join(k.dir, "release.key"), k.pub, k.err
}

// signedHelloSource copies examples/hello into a module of its own whose
// release.App trusts the signing key.
func signedHelloSource() (string, error) {
	_, pub, err := signingKeyFile()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "hello-signed-")
	if err != nil {
		return "", err
	}
	tmpDirs.Lock()
	tmpDirs.dirs = append(tmpDirs.dirs, dir)
	tmpDirs.Unlock()
	src := filepath.Join(moduleRoot, "examples", "hello")
	for _, f := range []string{"main.go", "greet.go", "handler.go", "static/app.css"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return "", err
		}
		if f == "main.go" {
			const at = `Name: "hello", `
			if !bytes.Contains(b, []byte(at)) {
				return "", fmt.Errorf("examples/hello/main.go has no %q to add TrustedKeys after", at)
			}
			b = bytes.Replace(b, []byte(at), []byte(at+fmt.Sprintf("TrustedKeys: []string{%q}, ", pub)), 1)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return "", err
		}
	}
	mod, err := os.ReadFile(filepath.Join(moduleRoot, "go.mod"))
	if err != nil {
		return "", err
	}
	_, requires, _ := strings.Cut(string(mod), "\nrequire")
	gomod := "module example.com/hello\n\ngo 1.26.0\n\n" +
		"require github.com/relkit/relkit v0.0.0-00010101000000-000000000000\n\n" +
		"replace github.com/relkit/relkit => " + moduleRoot + "\n\nrequire" + requires
	sum, err := os.ReadFile(filepath.Join(moduleRoot, "go.sum"))
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
}

var (
	signedV1 = &build{version: "1.0.0", src: signedHelloSource}
	signedV2 = &build{version: "2.0.0", src: signedHelloSource}
)

// TestUnpackChecksSignature: a release that trusts a key unpacks only
// tarballs signed by it, as upgrade does: an unsigned 2.0.0 is refused and
// nothing changes; signed with relkit sign, it unpacks.
func TestUnpackChecksSignature(t *testing.T) {
	t.Parallel()
	v1, v2 := signedV1.get(t), signedV2.get(t)
	key, _, err := signingKeyFile()
	if err != nil {
		t.Fatal(err)
	}
	s := install(t, "hello", v1)
	var rel releasesOut
	s.runJSON(&rel, "releases", "-json")
	if len(rel.TrustedKeys) != 1 || len(rel.TrustedKeys[0]) != 16 {
		t.Errorf("releases -json of a release that trusts one key: want its ID in trusted_keys, got %#v", rel.TrustedKeys)
	}
	if got := s.mustRun("releases"); len(rel.TrustedKeys) == 1 && !strings.Contains(got, "signatures: upgrade accepts only tarballs signed by key "+rel.TrustedKeys[0]) {
		t.Errorf("releases of a release that trusts a key must name it, got\n%s", got)
	}
	s.put("2.0.0", v2)
	before := s.snapshot()
	code, stdout, stderr := s.run("unpack", "2.0.0", "-json")
	var failed unpackFailed
	if err := decodeLine(stdout, &failed); err != nil || failed.Changed || !strings.Contains(failed.Error, "not signed by a trusted key") {
		t.Errorf("unpack -json of an unsigned tarball: want changed false and the error on stdout: %v", err)
	}
	if code != 1 || !strings.Contains(stderr, "not signed by a trusted key") {
		t.Errorf("unpack of an unsigned tarball by a release that trusts a key: want exit 1 naming the signature, got %d %q\n%s", code, stdout, stderr)
	}
	if d := testkit.Diff(before, s.snapshot()); d != "" {
		t.Errorf("the refused unpack changed the root:\n%s", d)
	}
	tarball := filepath.Join(s.root, "releases", "2.0.0", filepath.Base(v2))
	if out, err := exec.Command(relkitBin, "sign", "-key", key, tarball).CombinedOutput(); err != nil {
		t.Fatalf("relkit sign: %v\n%s", err, out)
	}
	var got unpackOut
	s.runJSON(&got, "unpack", "2.0.0", "-json")
	if !got.Changed {
		t.Errorf("unpack of the signed tarball: want changed true, got %+v", got)
	}
}
