package install

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"aead.dev/minisign"
)

// BenchmarkVerifySignature measures the check a trusted key adds to an
// upgrade, alone: parse the key and the .minisig, read a 16 MiB tarball and
// verify its signature. BenchmarkUnpack vs BenchmarkUnpackSigned is the
// whole upgrade, but it is dominated by fsync noise on a shared machine.
func BenchmarkVerifySignature(b *testing.B) {
	data := make([]byte, 16<<20)
	rand.Read(data)
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	tarball := filepath.Join(b.TempDir(), "app-1.1.0.tar.gz")
	if err := os.WriteFile(tarball, data, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(SignatureFile(tarball), signPrehashed(priv, data), 0o644); err != nil {
		b.Fatal(err)
	}
	trusted := []string{pub.String()}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := verifySignature(tarball, trusted); err != nil {
			b.Fatal(err)
		}
	}
}
