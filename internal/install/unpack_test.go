package install_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/manifest"
)

var (
	v1 = rel{name: "app", vsn: "1.0.0"}
	v2 = rel{name: "app", vsn: "1.1.0"}
)

// newRoot returns a root with v1 installed as relkit build assembles it
// (no RELEASES file yet) and the tarball of v2 waiting in releases/1.1.0/.
func newRoot(t *testing.T) (root *install.Root, tarball string) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, v1)
	tarball = filepath.Join(dir, "releases", v2.vsn, tarballName(v2))
	writeTarball(t, tarball, tarGz(t, entries(t, v2)))
	root, err := install.Open(dir, "app")
	must(t, err)
	return root, tarball
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	must(t, err)
	return string(b)
}

// stateLines returns the RELEASES lines that are not comments.
func stateLines(t *testing.T, root *install.Root) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(readFile(t, root.StateFilePath()), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func TestUnpack(t *testing.T) {
	t.Parallel()
	root, tarball := newRoot(t)
	res, err := root.Unpack("1.1.0", install.UnpackOptions{})
	if err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	dir := filepath.Join(root.Dir(), "releases", "1.1.0")
	if res.Version != "1.1.0" || res.Dir != dir || res.Tarball != tarball || res.AlreadyInstalled || res.Manifest.Version != "1.1.0" {
		t.Errorf("result: want version 1.1.0 dir %s tarball %s fresh, got %+v", dir, tarball, res)
	}
	if want, got := v2.script(), readFile(t, filepath.Join(dir, "app")); want != got {
		t.Errorf("binary: want %q, got %q", want, got)
	}
	if info, err := os.Stat(filepath.Join(dir, "app")); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("binary mode: want 0755, got %v (%v)", info.Mode(), err)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("release directory mode: want 0755, got %v (%v)", info.Mode(), err)
	}
	for _, kept := range []string{tarball, tarball + ".sha256"} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("the waiting file %s must stay: %v", kept, err)
		}
	}
	if err := root.Verify("1.1.0"); err != nil {
		t.Errorf("Verify after Unpack: %v", err)
	}
	if want, got := []string{"1.0.0 permanent", "1.1.0 unpacked"}, stateLines(t, root); !slices.Equal(want, got) {
		t.Errorf("RELEASES: want %q, got %q", want, got)
	}
	if vsn, err := root.Linked(); err != nil || vsn != "1.0.0" {
		t.Errorf("bin/app must still start 1.0.0 until 1.1.0 is permanent, got %q (%v)", vsn, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(root.Dir(), "releases", ".*"))
	if len(leftovers) > 0 {
		t.Errorf("staging left behind: %v", leftovers)
	}
}

func TestUnpackExplicitTarball(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	must(t, os.RemoveAll(filepath.Join(root.Dir(), "releases", "1.1.0")))
	elsewhere := filepath.Join(t.TempDir(), "upload", "app-1.1.0.tar.gz")
	writeTarball(t, elsewhere, tarGz(t, entries(t, v2)))
	res, err := root.Unpack("1.1.0", install.UnpackOptions{Tarball: elsewhere})
	if err != nil {
		t.Fatalf("Unpack -tarball: %v", err)
	}
	if res.Tarball != elsewhere {
		t.Errorf("tarball: want %s, got %s", elsewhere, res.Tarball)
	}
	if err := root.Verify("1.1.0"); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestUnpackSameBuildTwice(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root.Dir())
	res, err := root.Unpack("1.1.0", install.UnpackOptions{})
	if err != nil || !res.AlreadyInstalled {
		t.Fatalf("second Unpack of the same build: want AlreadyInstalled and no error, got %+v, %v", res, err)
	}
	if d := diffSnapshots(before, snapshot(t, root.Dir())); d != "" {
		t.Errorf("a second Unpack of the same build changed the tree:\n%s", d)
	}
}

func TestUnpackCarriesWaitingFiles(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	env := filepath.Join(root.Dir(), "releases", "1.1.0", "env")
	must(t, os.WriteFile(env, []byte("PORT=4001\n"), 0o600))
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	if want, got := "PORT=4001\n", readFile(t, env); want != got {
		t.Errorf("env file waiting in releases/1.1.0: want %q kept, got %q", want, got)
	}
	if info, err := os.Stat(env); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("env file mode: want 0600 kept, got %v (%v)", info.Mode(), err)
	}
}

// TestUnpackRefuses checks every refusal: the error matches its sentinel,
// says what is wrong, and nothing under the root changes.
func TestUnpackRefuses(t *testing.T) {
	t.Parallel()
	good := func(t *testing.T) []entry { return entries(t, v2) }
	with := func(extra ...entry) func(*testing.T) []entry {
		return func(t *testing.T) []entry { return append(entries(t, v2), extra...) }
	}
	const r2 = "releases/1.1.0/"
	tests := []struct {
		name    string
		entries func(*testing.T) []entry
		// tamper changes the tarball file (and its checksum) after writing.
		tamper  func(t *testing.T, tarball string)
		opts    install.UnpackOptions
		wantErr error
		wantMsg string
	}{
		{name: "truncated gzip, checksum of the truncated file", entries: good, tamper: func(t *testing.T, tb string) {
			data := []byte(readFile(t, tb))
			data = data[:len(data)/2]
			must(t, os.WriteFile(tb, data, 0o644))
			writeChecksum(t, tb, data)
		}, wantErr: install.ErrDamaged, wantMsg: "cannot be read as a gzip-compressed tar"},
		{name: "truncated gzip, original checksum", entries: good, tamper: func(t *testing.T, tb string) {
			data := readFile(t, tb)
			must(t, os.WriteFile(tb, []byte(data[:len(data)-10]), 0o644))
		}, wantErr: install.ErrChecksumMismatch, wantMsg: "copy it again"},
		{name: "not gzip", entries: good, tamper: func(t *testing.T, tb string) {
			must(t, os.WriteFile(tb, []byte("<html>404</html>"), 0o644))
			writeChecksum(t, tb, []byte("<html>404</html>"))
		}, wantErr: install.ErrDamaged, wantMsg: "gzip"},
		{name: "bad checksum", entries: good, tamper: func(t *testing.T, tb string) {
			writeChecksum(t, tb, []byte("something else"))
		}, wantErr: install.ErrChecksumMismatch, wantMsg: "the file is damaged or not the one that was built"},
		{name: "missing checksum", entries: good, tamper: func(t *testing.T, tb string) {
			must(t, os.Remove(tb+".sha256"))
		}, wantErr: install.ErrNoChecksum, wantMsg: ".sha256 not found; copy the .sha256 file"},
		{name: "checksum for another file", entries: good, tamper: func(t *testing.T, tb string) {
			must(t, os.WriteFile(tb+".sha256", []byte(strings.Repeat("ab", 32)+"  other.tar.gz\n"), 0o644))
		}, wantErr: install.ErrNoChecksum, wantMsg: "has no line for app-1.1.0"},
		{name: "path traversal", entries: with(entry{name: r2 + "../../x", typ: tar.TypeReg, mode: 0o644, body: "x"}), wantErr: install.ErrUnsafeEntry, wantMsg: `climbs out of the release with ".."`},
		{name: "leading dot-dot", entries: with(entry{name: "../x", typ: tar.TypeReg, mode: 0o644, body: "x"}), wantErr: install.ErrUnsafeEntry, wantMsg: "climbs out"},
		{name: "absolute path", entries: with(entry{name: "/etc/x", typ: tar.TypeReg, mode: 0o644, body: "x"}), wantErr: install.ErrUnsafeEntry, wantMsg: "is an absolute path"},
		{name: "symlink escaping", entries: with(entry{name: r2 + "lib", typ: tar.TypeSymlink, link: "../../../etc"}), wantErr: install.ErrUnsafeEntry, wantMsg: "escapes releases/1.1.0/"},
		{name: "symlink to the other release", entries: with(entry{name: r2 + "old", typ: tar.TypeSymlink, link: "../1.0.0/app"}), wantErr: install.ErrUnsafeEntry, wantMsg: "escapes"},
		{name: "symlink absolute", entries: with(entry{name: r2 + "passwd", typ: tar.TypeSymlink, link: "/etc/passwd"}), wantErr: install.ErrUnsafeEntry, wantMsg: "an absolute path"},
		{name: "symlink climbing after a name", entries: with(
			entry{name: r2 + "self", typ: tar.TypeSymlink, link: "."},
			entry{name: r2 + "up", typ: tar.TypeSymlink, link: "self/../x"},
		), wantErr: install.ErrUnsafeEntry, wantMsg: "not a clean relative path"},
		{name: "file written through a symlink", entries: with(
			entry{name: r2 + "d", typ: tar.TypeSymlink, link: "sub"},
			entry{name: r2 + "d/x", typ: tar.TypeReg, mode: 0o644, body: "x"},
		), wantErr: install.ErrUnsafeEntry, wantMsg: "lies below releases/1.1.0/d"},
		{name: "hard link outside", entries: with(entry{name: r2 + "passwd", typ: tar.TypeLink, link: "/etc/passwd"}), wantErr: install.ErrUnsafeEntry, wantMsg: "is a hard link"},
		{name: "hard link to the installed release", entries: with(entry{name: r2 + "old", typ: tar.TypeLink, link: "releases/1.0.0/app"}), wantErr: install.ErrUnsafeEntry, wantMsg: "is a hard link"},
		{name: "device", entries: with(entry{name: r2 + "null", typ: tar.TypeChar, mode: 0o666}), wantErr: install.ErrUnsafeEntry, wantMsg: "is a device file"},
		{name: "fifo", entries: with(entry{name: r2 + "pipe", typ: tar.TypeFifo, mode: 0o644}), wantErr: install.ErrUnsafeEntry, wantMsg: "is a named pipe"},
		{name: "setuid", entries: func(t *testing.T) []entry {
			es := entries(t, v2)
			for i := range es {
				if es[i].name == r2+"app" {
					es[i].mode = 0o4755
				}
			}
			return es
		}, wantErr: install.ErrUnsafeEntry, wantMsg: "setuid"},
		{name: "duplicate entry", entries: with(entry{name: r2 + "app", typ: tar.TypeReg, mode: 0o755, body: "evil"}), wantErr: install.ErrUnsafeEntry, wantMsg: "appears twice"},
		{name: "file at the root release.json does not list", entries: with(entry{name: "etc/app.conf", typ: tar.TypeReg, mode: 0o644, body: "x=1"}), wantErr: install.ErrWrongRelease, wantMsg: "holds etc/app.conf, which its release.json does not list"},
		{name: "file in tmp", entries: with(entry{name: "tmp/app.pid", typ: tar.TypeReg, mode: 0o644, body: "1"}), wantErr: install.ErrUnsafeEntry, wantMsg: "lies in tmp/, which belongs to the running release"},
		{name: "file in log", entries: with(entry{name: "log/app.log", typ: tar.TypeReg, mode: 0o644, body: "1"}), wantErr: install.ErrUnsafeEntry, wantMsg: "lies in log/"},
		{name: "device at the root", entries: with(entry{name: "etc/null", typ: tar.TypeChar, mode: 0o666}), wantErr: install.ErrUnsafeEntry, wantMsg: "is a device file"},
		{name: "root file climbing out", entries: with(entry{name: "etc/../../x", typ: tar.TypeReg, mode: 0o644, body: "x"}), wantErr: install.ErrUnsafeEntry, wantMsg: "climbs out"},
		{name: "hard link to a root file", entries: func(t *testing.T) []entry {
			r := v2
			r.overlays = map[string]string{"etc/app.conf": "x=1"}
			return append(entries(t, r), entry{name: r2 + "conf", typ: tar.TypeLink, link: "etc/app.conf"})
		}, wantErr: install.ErrUnsafeEntry, wantMsg: "is a hard link"},
		{name: "entry of another version", entries: with(entry{name: "releases/1.0.0/app", typ: tar.TypeReg, mode: 0o755, body: "evil"}), wantErr: install.ErrWrongRelease, wantMsg: "belongs to release 1.0.0, not 1.1.0"},
		{name: "bin link elsewhere", entries: func(t *testing.T) []entry {
			es := entries(t, v2)
			for i := range es {
				if es[i].name == "bin/app" {
					es[i].link = "../../usr/bin/app"
				}
			}
			return es
		}, wantErr: install.ErrUnsafeEntry, wantMsg: "must be a symbolic link to ../releases/1.1.0/app"},
		{name: "wrong version", entries: func(t *testing.T) []entry { return entries(t, rel{name: "app", vsn: "1.2.0"}) }, wantErr: install.ErrWrongRelease, wantMsg: "starts release 1.2.0, not 1.1.0"},
		{name: "wrong name", entries: func(t *testing.T) []entry { return entries(t, rel{name: "other", vsn: "1.1.0"}) }, wantErr: install.ErrWrongRelease, wantMsg: "starts release other, not app"},
		{name: "release.json of another name", entries: func(t *testing.T) []entry {
			return entries(t, rel{name: "app", vsn: "1.1.0", edit: func(m *manifest.Manifest) { m.Name = "other" }})
		}, wantErr: install.ErrWrongRelease, wantMsg: "is release other 1.1.0, not app 1.1.0"},
		{name: "release.json of another version", entries: func(t *testing.T) []entry {
			return entries(t, rel{name: "app", vsn: "1.1.0", edit: func(m *manifest.Manifest) { m.Version = "9.9.9" }})
		}, wantErr: install.ErrWrongRelease, wantMsg: "is release app 9.9.9"},
		{name: "built for another target", entries: func(t *testing.T) []entry {
			return entries(t, rel{name: "app", vsn: "1.1.0", edit: func(m *manifest.Manifest) { m.OS, m.Arch = "plan9", "386" }})
		}, wantErr: install.ErrWrongRelease, wantMsg: "is built for plan9/386"},
		{name: "binary differs from release.json", entries: func(t *testing.T) []entry {
			es := entries(t, v2)
			for i := range es {
				if es[i].name == r2+"app" {
					es[i].body = strings.ToUpper(es[i].body)
				}
			}
			return es
		}, wantErr: install.ErrWrongRelease, wantMsg: "releases/1.1.0/app: sha256"},
		{name: "file release.json does not list", entries: with(entry{name: r2 + "backdoor", typ: tar.TypeReg, mode: 0o755, body: "x"}), wantErr: install.ErrWrongRelease, wantMsg: "holds releases/1.1.0/backdoor, which its release.json does not list"},
		{name: "no release.json", entries: func(t *testing.T) []entry {
			return slices.DeleteFunc(entries(t, v2), func(e entry) bool { return strings.HasSuffix(e.name, "release.json") })
		}, wantErr: install.ErrWrongRelease, wantMsg: "holds no releases/1.1.0/release.json"},
		{name: "too many entries", entries: good, opts: install.UnpackOptions{MaxEntries: 3}, wantErr: install.ErrTooLarge, wantMsg: "bound of 3 entries"},
		{name: "too large", entries: good, opts: install.UnpackOptions{MaxSize: 16}, wantErr: install.ErrTooLarge, wantMsg: "over 16 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root, tarball := newRoot(t)
			writeTarball(t, tarball, tarGz(t, tt.entries(t)))
			if tt.tamper != nil {
				tt.tamper(t, tarball)
			}
			before := snapshot(t, root.Dir())
			res, err := root.Unpack("1.1.0", tt.opts)
			if err == nil {
				t.Fatalf("Unpack: want an error matching %v, got success %+v", tt.wantErr, res)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Unpack: want an error matching %v, got %v", tt.wantErr, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Unpack: want an error containing %q, got %q", tt.wantMsg, err)
			}
			if d := diffSnapshots(before, snapshot(t, root.Dir())); d != "" {
				t.Errorf("a refused Unpack changed the root:\n%s", d)
			}
		})
	}
}

func TestUnpackRefusesDifferentBuildOfInstalledVersion(t *testing.T) {
	t.Parallel()
	root, tarball := newRoot(t)
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	rebuilt := rel{name: "app", vsn: "1.1.0", binary: "#!/bin/sh\necho rebuilt\n"}
	writeTarball(t, tarball, tarGz(t, entries(t, rebuilt)))
	before := snapshot(t, root.Dir())
	_, err := root.Unpack("1.1.0", install.UnpackOptions{})
	if !errors.Is(err, install.ErrAlreadyInstalled) || !strings.Contains(err.Error(), "give the new build a new version") {
		t.Errorf("Unpack of another build of 1.1.0: want ErrAlreadyInstalled saying to use a new version, got %v", err)
	}
	if d := diffSnapshots(before, snapshot(t, root.Dir())); d != "" {
		t.Errorf("refused Unpack changed the root:\n%s", d)
	}
}

func TestUnpackRefusesTamperedInstalledCopy(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(root.Dir(), "releases", "1.1.0", "app"), []byte("#!/bin/sh\necho patched\n"), 0o755))
	_, err := root.Unpack("1.1.0", install.UnpackOptions{})
	if !errors.Is(err, install.ErrAlreadyInstalled) || !strings.Contains(err.Error(), "no longer match") {
		t.Errorf("Unpack over a modified installed copy: want ErrAlreadyInstalled saying the files no longer match, got %v", err)
	}
}

func TestUnpackRefusesFileInTheWay(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	must(t, os.WriteFile(filepath.Join(root.Dir(), "releases", "1.1.0", "app"), []byte("old copy"), 0o755))
	before := snapshot(t, root.Dir())
	_, err := root.Unpack("1.1.0", install.UnpackOptions{})
	if !errors.Is(err, install.ErrAlreadyInstalled) || !strings.Contains(err.Error(), "is in the way") {
		t.Errorf("Unpack with releases/1.1.0/app already there: want a refusal saying it is in the way, got %v", err)
	}
	if d := diffSnapshots(before, snapshot(t, root.Dir())); d != "" {
		t.Errorf("refused Unpack changed the root:\n%s", d)
	}
}

func TestUnpackRefusesStaleState(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	must(t, os.WriteFile(root.StateFilePath(), []byte("1.0.0 old\n1.1.0 permanent\n"), 0o644))
	before := snapshot(t, root.Dir())
	_, err := root.Unpack("1.1.0", install.UnpackOptions{})
	if !errors.Is(err, install.ErrState) || !strings.Contains(err.Error(), "lists release 1.1.0 as permanent") {
		t.Errorf("Unpack of a version RELEASES says is permanent: want ErrState, got %v", err)
	}
	if d := diffSnapshots(before, snapshot(t, root.Dir())); d != "" {
		t.Errorf("refused Unpack changed the root:\n%s", d)
	}
}

func TestUnpackRefusesWhileLocked(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	other, err := install.Open(root.Dir(), "app") // a second process, as far as flock is concerned
	must(t, err)
	unlock, err := other.Lock()
	must(t, err)
	defer unlock()
	before := snapshot(t, root.Dir())
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); !errors.Is(err, install.ErrBusy) {
		t.Errorf("Unpack while another holds the lock: want ErrBusy, got %v", err)
	}
	if d := diffSnapshots(before, snapshot(t, root.Dir())); d != "" {
		t.Errorf("refused Unpack changed the root:\n%s", d)
	}
	unlock()
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
		t.Errorf("Unpack once the lock is released: %v", err)
	}
}

func TestUnpackedBinaryRuns(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to run the test binary")
	}
	root, _ := newRoot(t)
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(root.Dir(), "releases", "1.1.0", "app")).Output()
	if want := "app 1.1.0\n"; err != nil || string(out) != want {
		t.Errorf("running the unpacked binary: want %q, got %q (%v)", want, out, err)
	}
}

// TestUnpackKeepsLinksInsideTheRelease: links that stay inside
// releases/VSN/ are legitimate and unpacked as links.
func TestUnpackKeepsLinksInsideTheRelease(t *testing.T) {
	t.Parallel()
	r := rel{name: "app", vsn: "1.1.0",
		extra:      map[string]string{"share/app-copy": v2.script(), "share/static/index.html": "<h1>hi</h1>"},
		executable: []string{"share/app-copy"},
		links:      map[string]string{"share/www": "static", "current": "app", "share/up": "../app"},
	}
	es := entries(t, r)
	for i := range es { // make the copy a hard link, as GNU tar stores a second name of one file
		if es[i].name == "releases/1.1.0/share/app-copy" {
			es[i] = entry{name: es[i].name, typ: tar.TypeLink, link: "releases/1.1.0/app"}
		}
	}
	root, tarball := newRoot(t)
	writeTarball(t, tarball, tarGz(t, es))
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
		t.Fatalf("Unpack of a release with inner links: %v", err)
	}
	dir := filepath.Join(root.Dir(), "releases", "1.1.0")
	for link, want := range r.links {
		if got, err := os.Readlink(filepath.Join(dir, link)); err != nil || got != want {
			t.Errorf("link %s: want -> %s, got %q (%v)", link, want, got, err)
		}
	}
	if got := readFile(t, filepath.Join(dir, "share", "www", "index.html")); got != "<h1>hi</h1>" {
		t.Errorf("reading through share/www: got %q", got)
	}
	a, _ := os.Stat(filepath.Join(dir, "app"))
	b, _ := os.Stat(filepath.Join(dir, "share", "app-copy"))
	if !os.SameFile(a, b) {
		t.Errorf("share/app-copy: want a hard link to app")
	}
}

// TestUnpackBoundsTheDecompressedStream: data hidden after the end of the
// tar archive (a gzip bomb) is refused once it exceeds the bound.
func TestUnpackBoundsTheDecompressedStream(t *testing.T) {
	t.Parallel()
	root, tarball := newRoot(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	must(t, tw.WriteHeader(&tar.Header{Name: "releases/", Typeflag: tar.TypeDir, Mode: 0o755}))
	must(t, tw.Close())
	_, err := zw.Write(make([]byte, 4<<20)) // compresses to a few KiB
	must(t, err)
	must(t, zw.Close())
	writeTarball(t, tarball, buf.Bytes())
	before := snapshot(t, root.Dir())
	_, err = root.Unpack("1.1.0", install.UnpackOptions{MaxSize: 1 << 10, MaxEntries: 10})
	if !errors.Is(err, install.ErrTooLarge) {
		t.Errorf("Unpack of a tarball hiding 4 MiB after its end: want ErrTooLarge, got %v", err)
	}
	if d := diffSnapshots(before, snapshot(t, root.Dir())); d != "" {
		t.Errorf("refused Unpack changed the root:\n%s", d)
	}
}

func TestUnpackRemovesStaleStaging(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	stale := filepath.Join(root.Dir(), "releases", ".unpack-1.1.0-123")
	must(t, os.MkdirAll(filepath.Join(stale, "releases"), 0o700))
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("staging left by a killed unpack: want it removed, got %v", err)
	}
}

// TestUnpackSkipsOverlays: files at the release root (rel/overlays) are
// listed as skipped, not installed, and the release itself is.
func TestUnpackSkipsOverlays(t *testing.T) {
	t.Parallel()
	root, tarball := newRoot(t)
	r := v2
	r.overlays = map[string]string{"etc/app.conf": "x=1\n", "bin/hook.sh": "#!/bin/sh\n"}
	writeTarball(t, tarball, tarGz(t, entries(t, r)))
	res, err := root.Unpack("1.1.0", install.UnpackOptions{})
	if err != nil {
		t.Fatalf("Unpack of a tarball with overlays: %v", err)
	}
	if want, got := []string{"bin/hook.sh", "etc/app.conf"}, res.Skipped; !slices.Equal(want, got) {
		t.Errorf("Skipped: want %q, got %q", want, got)
	}
	for _, p := range []string{"etc", "bin/hook.sh"} {
		if _, err := os.Lstat(filepath.Join(root.Dir(), filepath.FromSlash(p))); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: want it not installed, got %v", p, err)
		}
	}
	if err := root.Verify("1.1.0"); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// TestUnpackUndo: Undo leaves the root as it was before Unpack, byte for
// byte, whether releases/1.1.0/ held the waiting tarball or did not exist,
// and whether RELEASES existed.
func TestUnpackUndo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		elsewhere bool // the tarball is outside releases/1.1.0/
		state     bool // RELEASES exists before
	}{
		{name: "tarball waiting in releases/VSN, no RELEASES"},
		{name: "tarball waiting in releases/VSN, RELEASES", state: true},
		{name: "tarball elsewhere", elsewhere: true, state: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root, tarball := newRoot(t)
			if tt.elsewhere {
				must(t, os.RemoveAll(filepath.Join(root.Dir(), "releases", "1.1.0")))
				tarball = filepath.Join(t.TempDir(), tarballName(v2))
				writeTarball(t, tarball, tarGz(t, entries(t, v2)))
			}
			if tt.state {
				must(t, os.WriteFile(root.StateFilePath(), []byte("# written by hand\n1.0.0   permanent\n"), 0o644))
			}
			unlock, err := root.Lock()
			must(t, err)
			defer unlock()
			before := snapshot(t, root.Dir())
			res, err := root.Unpack("1.1.0", install.UnpackOptions{Tarball: tarball})
			if err != nil {
				t.Fatal(err)
			}
			if err := res.Undo(); err != nil {
				t.Fatalf("Undo: %v", err)
			}
			if d := diffSnapshots(before, snapshot(t, root.Dir())); d != "" {
				t.Errorf("after Undo the root differs from before Unpack:\n%s", d)
			}
			// A different build of 1.1.0 can be unpacked now.
			rebuilt := rel{name: "app", vsn: "1.1.0", binary: "#!/bin/sh\necho fixed\n"}
			writeTarball(t, tarball, tarGz(t, entries(t, rebuilt)))
			if _, err := root.Unpack("1.1.0", install.UnpackOptions{Tarball: tarball}); err != nil {
				t.Errorf("Unpack of a fixed build after Undo: %v", err)
			}
		})
	}
}

// TestUnpackUndoOfAlreadyInstalled: Undo of a result that installed no file
// restores only RELEASES.
func TestUnpackUndoOfAlreadyInstalled(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	must(t, os.Remove(root.StateFilePath())) // 1.1.0 installed but not listed
	before := snapshot(t, root.Dir())
	res, err := root.Unpack("1.1.0", install.UnpackOptions{})
	if err != nil || !res.AlreadyInstalled {
		t.Fatalf("Unpack of the installed build: want AlreadyInstalled, got %+v, %v", res, err)
	}
	if err := res.Undo(); err != nil {
		t.Fatalf("Undo: %v", err)
	}
	if d := diffSnapshots(before, snapshot(t, root.Dir())); d != "" {
		t.Errorf("after Undo the root differs from before Unpack:\n%s", d)
	}
}

// TestUnpackKeepsARecordedSwitch: RELEASES changed by another process
// while Unpack extracted (the supervisor committing a probation rollback
// takes no lock) is kept; Unpack adds its line to it.
func TestUnpackKeepsARecordedSwitch(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	install.SetBeforeStateWrite(root, func() {
		rs, err := install.ParseReleases([]byte("0.9.0 old\n1.0.0 permanent\n"))
		must(t, err)
		must(t, install.WriteReleases(root.StateFilePath(), rs))
	})
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	if want, got := []string{"0.9.0 old", "1.0.0 permanent", "1.1.0 unpacked"}, stateLines(t, root); !slices.Equal(want, got) {
		t.Errorf("RELEASES: want %q, got %q", want, got)
	}
}
