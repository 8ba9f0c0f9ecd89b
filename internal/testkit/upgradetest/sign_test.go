package upgradetest

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/relkit/relkit/internal/testkit"
)

// The signed releases: an app named "signed" whose release.App.TrustedKeys
// are fixed in its source. A trusts K1; B trusts K1 and K2 (it introduces
// the new key); C trusts K2 only.
var (
	signedA = &build{version: "1.0.0", src: func() (string, error) { return signedSource("K1") }}
	signedB = &build{version: "2.0.0", src: func() (string, error) { return signedSource("K1", "K2") }}
	signedC = &build{version: "3.0.0", src: func() (string, error) { return signedSource("K2") }}
)

// keys are the key pairs the signed tests use, made once with relkit keygen.
var keys struct {
	once sync.Once
	dir  string
	err  error
}

// keyFile returns the secret key file of key name (K1, K2, OTHER); its
// public key is keyFile(name)+".pub".
func keyFile(name string) (string, error) {
	keys.once.Do(func() {
		keys.dir, keys.err = os.MkdirTemp("", "relkit-keys-")
		if keys.err != nil {
			return
		}
		tmpDirs.Lock()
		tmpDirs.dirs = append(tmpDirs.dirs, keys.dir)
		tmpDirs.Unlock()
		for _, k := range []string{"K1", "K2", "OTHER"} {
			out, err := exec.Command(relkitBin, "keygen", "-unencrypted", filepath.Join(keys.dir, k)).CombinedOutput()
			if err != nil {
				keys.err = fmt.Errorf("relkit keygen %s: %v\n%s", k, err, out)
				return
			}
		}
	})
	return filepath.Join(keys.dir, name), keys.err
}

// publicKey returns the "RW..." line of key name's .pub file.
func publicKey(name string) (string, error) {
	f, err := keyFile(name)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(f + ".pub")
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1], nil
}

// keyID returns key name's ID as relkit prints it.
func keyID(t *testing.T, name string) string {
	t.Helper()
	f, err := keyFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return first[strings.LastIndex(first, " ")+1:]
}

// signedSource writes the signed app trusting the named keys into a new
// module that requires this checkout of relkit.
func signedSource(trusted ...string) (string, error) {
	var lits []string
	for _, k := range trusted {
		pub, err := publicKey(k)
		if err != nil {
			return "", err
		}
		lits = append(lits, fmt.Sprintf("%q, // %s", pub, k))
	}
	dir, err := os.MkdirTemp("", "signed-")
	if err != nil {
		return "", err
	}
	tmpDirs.Lock()
	tmpDirs.dirs = append(tmpDirs.dirs, dir)
	tmpDirs.Unlock()
	main := `// Command signed is a release that installs only tarballs signed by the
// keys it trusts.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

var trusted = []string{
	` + strings.Join(lits, "\n\t") + `
}

func main() {
	release.Main(release.App[runtimeconfig.Base]{
		Name: "signed", Version: "0.1.0", Server: true, TrustedKeys: trusted,
		Handler: func(ctx context.Context, _ *runtimeconfig.Base, _ *slog.Logger) (http.Handler, error) {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprintf(w, "signed %s\n", release.InfoFrom(ctx).Version)
			}), nil
		},
	})
}
`
	mod, err := os.ReadFile(filepath.Join(moduleRoot, "go.mod"))
	if err != nil {
		return "", err
	}
	sum, err := os.ReadFile(filepath.Join(moduleRoot, "go.sum"))
	if err != nil {
		return "", err
	}
	_, requires, _ := strings.Cut(string(mod), "\nrequire")
	files := map[string]string{
		"main.go": main,
		"go.mod": "module example.com/signed\n\ngo 1.26.0\n\n" +
			"require github.com/relkit/relkit v0.0.0-00010101000000-000000000000\n\n" +
			"replace github.com/relkit/relkit => " + moduleRoot + "\n\nrequire" + requires,
		"go.sum": string(sum),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// signedCopy copies tarball (and its .sha256) into a new directory under
// its own name, signs the copy with key (none when ""), and returns it.
func signedCopy(t *testing.T, tarball, key string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(tarball))
	for _, f := range []string{tarball, tarball + ".sha256"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(filepath.Dir(dst), filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if key != "" {
		sign(t, dst, key)
	}
	return dst
}

// sign signs tarball with key name using relkit sign.
func sign(t *testing.T, tarball, key string) {
	t.Helper()
	f, err := keyFile(key)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(relkitBin, "sign", "-key", f, tarball).CombinedOutput(); err != nil {
		t.Fatalf("relkit sign -key %s: %v\n%s", key, err, out)
	}
}

// putSigned copies tarball, its .sha256 and its .minisig (when there is
// one) into releases/VSN/, where upgrade looks for them.
func (s *system) putSigned(vsn, tarball string) {
	s.t.Helper()
	s.put(vsn, tarball)
	b, err := os.ReadFile(tarball + ".minisig")
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.root, "releases", vsn, filepath.Base(tarball)+".minisig"), b, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// TestSignedKeyRotation: the rotation path across three releases, each an
// upgrade of the running system. A trusts K1 only, so it refuses C (signed
// by K2); B, signed by K1, brings K2 into the trusted keys; C, signed by
// K2, then upgrades B. version -v names the trusted keys of each.
func TestSignedKeyRotation(t *testing.T) {
	t.Parallel()
	a, b, c := signedA.get(t), signedB.get(t), signedC.get(t)
	k1, k2 := keyID(t, "K1"), keyID(t, "K2")
	s := install(t, "signed", a)
	if v := s.mustRun("version", "-v"); !strings.Contains(v, "signatures: upgrade accepts only tarballs signed by key "+k1+"\n") ||
		!strings.Contains(v, "sbom: "+filepath.Join(s.root, "releases", "1.0.0", "sbom.cdx.json")+" (CycloneDX JSON, sha256 ") {
		t.Errorf("A version -v: want the policy naming %s and the SBOM path, got\n%s", k1, v)
	}
	s.start()

	// A does not trust K2 yet: C is refused before anything is unpacked.
	s.putSigned("3.0.0", signedCopy(t, c, "K2"))
	before := s.snapshot()
	code, _, stderr := s.run("upgrade", "3.0.0")
	if want := "is signed by key " + k2 + ", which this release does not trust (trusted: " + k1 + ")"; code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("A upgrading to C signed by K2: want exit 1 with %q, got %d: %s", want, code, stderr)
	}
	if d := testkit.Diff(before, s.snapshot()); d != "" {
		t.Errorf("the refused upgrade changed the root:\n%s", d)
	}

	s.putSigned("2.0.0", signedCopy(t, b, "K1"))
	if out := s.mustRun("upgrade", "2.0.0"); !strings.Contains(out, "Installed release 2.0.0") {
		t.Fatalf("A upgrading to B signed by K1: want installed, got %q", out)
	}
	if got := s.body("/"); got != "signed 2.0.0\n" {
		t.Fatalf("after the upgrade to B: want signed 2.0.0 serving, got %q", got)
	}
	if v := s.mustRun("version", "-v"); !strings.Contains(v, "signed by key "+k1+", "+k2+"\n") {
		t.Errorf("B version -v: want both keys trusted, got\n%s", v)
	}
	// C's files were refused above; B, which trusts K2, takes C now.
	if out := s.mustRun("upgrade", "3.0.0"); !strings.Contains(out, "Installed release 3.0.0") {
		t.Fatalf("B upgrading to C signed by K2: want installed, got %q", out)
	}
	if got := s.body("/"); got != "signed 3.0.0\n" {
		t.Fatalf("after the upgrade to C: want signed 3.0.0 serving, got %q", got)
	}
}

// TestSignedUpgradeRefuses: a release that trusts K1 refuses, before
// anything is unpacked, the tarballs that whoever can write next to it
// could make: B re-signed by an untrusted key (with a valid .sha256),
// another build put in B's place with a recomputed .sha256 and B's
// signature, and B without a signature. Then the genuine B upgrades.
func TestSignedUpgradeRefuses(t *testing.T) {
	t.Parallel()
	a, b, evil := signedA.get(t), signedB.get(t), helloV2.get(t)
	k1, other := keyID(t, "K1"), keyID(t, "OTHER")
	s := install(t, "signed", a)
	s.start()

	tampered := signedCopy(t, b, "K1")
	data, err := os.ReadFile(evil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tampered, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if err := os.WriteFile(tampered+".sha256", fmt.Appendf(nil, "%x  %s\n", sum, filepath.Base(tampered)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, tarball, want string
	}{
		{"re-signed by an untrusted key", signedCopy(t, b, "OTHER"), "is signed by key " + other + ", which this release does not trust (trusted: " + k1 + ")"},
		{"replaced, .sha256 recomputed, old signature", tampered, "does not match the bytes of"},
		{"no signature", signedCopy(t, b, ""), ".minisig not found; this release installs only tarballs signed by a trusted key (" + k1 + ")"},
	} {
		os.RemoveAll(filepath.Join(s.root, "releases", "2.0.0"))
		s.putSigned("2.0.0", tc.tarball)
		before := s.snapshot()
		code, stdout, stderr := s.run("upgrade", "2.0.0")
		if code != 1 || !strings.Contains(stderr, tc.want) || strings.Contains(stdout, "Unpacked") {
			t.Errorf("%s: want exit 1 with %q and nothing unpacked, got %d\nstdout: %s\nstderr: %s", tc.name, tc.want, code, stdout, stderr)
		}
		if d := testkit.Diff(before, s.snapshot()); d != "" {
			t.Errorf("%s: the refused upgrade changed the root:\n%s", tc.name, d)
		}
		if got := s.body("/"); got != "signed 1.0.0\n" {
			t.Errorf("%s: want signed 1.0.0 still serving, got %q", tc.name, got)
		}
	}

	os.RemoveAll(filepath.Join(s.root, "releases", "2.0.0"))
	s.putSigned("2.0.0", signedCopy(t, b, "K1"))
	if out := s.mustRun("upgrade", "2.0.0"); !strings.Contains(out, "Installed release 2.0.0") {
		t.Fatalf("the genuine B signed by K1: want installed, got %q", out)
	}
}

// TestUnsignedReleaseIgnoresSignatures: a release without trusted keys
// says so and upgrades as before, whatever lies next to the tarball (here
// a .minisig that is no signature at all).
func TestUnsignedReleaseIgnoresSignatures(t *testing.T) {
	t.Parallel()
	v1, v2 := helloV1.get(t), helloV2.get(t)
	s := install(t, "hello", v1)
	if v := s.mustRun("version", "-v"); !strings.Contains(v, "signatures: releases are not signature-checked (no release.App.TrustedKeys)\n") {
		t.Errorf("version -v: want the release to say it does not check signatures, got\n%s", v)
	}
	s.start()
	s.put("2.0.0", v2)
	if err := os.WriteFile(filepath.Join(s.root, "releases", "2.0.0", filepath.Base(v2)+".minisig"), []byte("not a signature\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := s.mustRun("upgrade", "2.0.0"); !strings.Contains(out, "Installed release 2.0.0") {
		t.Fatalf("upgrade without trusted keys: want installed, got %q", out)
	}
	if got := s.body("/"); got != "Hello from hello 2.0.0\n" {
		t.Errorf("after the upgrade: want hello 2.0.0, got %q", got)
	}
}
