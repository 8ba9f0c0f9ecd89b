package install_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"aead.dev/minisign"

	"github.com/relkit/relkit/internal/install"
)

type key struct {
	pub  string
	priv minisign.PrivateKey
	id   string
}

func newKey(t *testing.T) key {
	t.Helper()
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	must(t, err)
	return key{pub: pub.String(), priv: priv, id: fmt.Sprintf("%016X", pub.ID())}
}

func sign(t *testing.T, k key, tarball string) {
	t.Helper()
	data, err := os.ReadFile(tarball)
	must(t, err)
	must(t, os.WriteFile(install.SignatureFile(tarball), install.SignPrehashed(k.priv, data), 0o644))
}

func TestUnpackSignature(t *testing.T) {
	t.Parallel()
	k1, k2, other := newKey(t), newKey(t), newKey(t)
	for _, tc := range []struct {
		name    string
		trusted []key
		prepare func(t *testing.T, tarball string)
		want    string // "" accepts
	}{
		{"signed by the trusted key", []key{k1}, func(t *testing.T, tb string) { sign(t, k1, tb) }, ""},
		{"rotation: new key among the trusted", []key{k1, k2}, func(t *testing.T, tb string) { sign(t, k2, tb) }, ""},
		{"no keys trusted, no signature", nil, func(*testing.T, string) {}, ""},
		{"signed by an untrusted key", []key{k1}, func(t *testing.T, tb string) { sign(t, other, tb) },
			"signed by key " + other.id + ", which this release does not trust (trusted: " + k1.id + ")"},
		{"no signature", []key{k1}, func(*testing.T, string) {}, ".minisig not found"},
		{"tampered after signing, .sha256 recomputed", []key{k1}, func(t *testing.T, tb string) {
			sign(t, k1, tb)
			writeTarball(t, tb, tarGz(t, entries(t, rel{name: "app", vsn: "1.1.0", binary: "#!/bin/sh\necho evil\n"})))
		}, "changed after it was signed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root, tarball := newRoot(t)
			tc.prepare(t, tarball)
			var trusted []string
			for _, k := range tc.trusted {
				trusted = append(trusted, k.pub)
			}
			before := snapshot(t, root.Dir())
			_, err := root.Unpack("1.1.0", install.UnpackOptions{TrustedKeys: trusted})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Unpack: want accepted, got %v", err)
				}
				return
			}
			if !errors.Is(err, install.ErrUntrusted) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Unpack: want ErrUntrusted saying %q, got %v", tc.want, err)
			}
			if d := diffSnapshots(before, snapshot(t, root.Dir())); d != "" {
				t.Errorf("refused Unpack changed the root:\n%s", d)
			}
		})
	}
}
