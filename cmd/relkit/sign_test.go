package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/manifest"
)

// pubKey returns the key line of a .pub file relkit keygen wrote.
func pubKey(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// TestKeygenBuildSign: keygen, build -tar -sign with the encrypted key, and
// the real tarball passes Unpack's signature check for that key only.
func TestKeygenBuildSign(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds a release with the go command; skipped with -short")
	}
	t.Parallel()
	keys := t.TempDir()
	env := testEnv("RELKIT_SIGN_PASSPHRASE=correct horse")
	for _, k := range []string{"k1", "other"} {
		if r := relkit(t, env, "keygen", filepath.Join(keys, k)); r.code != 0 {
			t.Fatalf("keygen: exit %d: %s", r.code, r.stderr)
		}
	}
	if r := relkit(t, testEnv("RELKIT_SIGN_PASSPHRASE="), "keygen", filepath.Join(keys, "k3")); r.code != exitUsage || !strings.Contains(r.stderr, "-unencrypted") {
		t.Errorf("keygen without passphrase: want exit 64 naming -unencrypted, got %d: %s", r.code, r.stderr)
	}
	if r := relkit(t, env, "keygen", filepath.Join(keys, "k1")); r.code != exitFailure || !strings.Contains(r.stderr, "never overwrites") {
		t.Errorf("keygen over an existing key: want exit 1, got %d: %s", r.code, r.stderr)
	}
	out := t.TempDir()
	r := relkit(t, env, "build", "-tar", "-sign", filepath.Join(keys, "k1"), "-o", out, samplePkg)
	if r.code != 0 {
		t.Fatalf("build -tar -sign: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	tarballs, _ := filepath.Glob(filepath.Join(out, "*.tar.gz"))
	if len(tarballs) != 1 {
		t.Fatalf("want one tarball in %s, got %v", out, tarballs)
	}
	tarball := tarballs[0]
	if _, err := os.Stat(tarball + ".minisig"); err != nil {
		t.Fatalf("build -sign wrote no signature: %v", err)
	}
	mans, _ := filepath.Glob(filepath.Join(out, "*", "releases", "*", manifest.FileName))
	if len(mans) != 1 {
		t.Fatalf("want one release.json, got %v", mans)
	}
	m, err := manifest.Read(mans[0])
	if err != nil {
		t.Fatal(err)
	}
	root, err := install.Open(filepath.Dir(filepath.Dir(filepath.Dir(mans[0]))), m.Name)
	if err != nil {
		t.Fatal(err)
	}
	k1, other := pubKey(t, filepath.Join(keys, "k1.pub")), pubKey(t, filepath.Join(keys, "other.pub"))
	if _, err := root.Unpack(m.Version, install.UnpackOptions{Tarball: tarball, TrustedKeys: []string{k1}}); err != nil {
		t.Errorf("Unpack trusting k1: want accepted, got %v", err)
	}
	if _, err := root.Unpack(m.Version, install.UnpackOptions{Tarball: tarball, TrustedKeys: []string{other}}); !errors.Is(err, install.ErrUntrusted) {
		t.Errorf("Unpack trusting another key: want ErrUntrusted, got %v", err)
	}
	// Re-signed by the untrusted key with relkit sign: refused by k1.
	if r := relkit(t, env, "sign", "-key", filepath.Join(keys, "other"), tarball); r.code != 0 {
		t.Fatalf("sign: exit %d: %s", r.code, r.stderr)
	}
	if _, err := root.Unpack(m.Version, install.UnpackOptions{Tarball: tarball, TrustedKeys: []string{k1}}); !errors.Is(err, install.ErrUntrusted) || !strings.Contains(err.Error(), "does not trust") {
		t.Errorf("Unpack of a tarball re-signed by an untrusted key: want ErrUntrusted, got %v", err)
	}
}
