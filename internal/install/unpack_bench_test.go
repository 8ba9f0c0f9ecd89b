package install_test

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"aead.dev/minisign"

	"github.com/relkit/relkit/internal/install"
)

// BenchmarkUnpack measures Unpack of a release whose binary is 16 MiB of
// incompressible bytes (a typical Go web binary is 10-30 MiB): checksum,
// decompression, staging with fsync, manifest verification, the swap and
// the RELEASES write.
func BenchmarkUnpack(b *testing.B) {
	bin := make([]byte, 16<<20)
	rand.Read(bin)
	r := rel{name: "app", vsn: "1.1.0", binary: string(bin)}
	data := tarGz(b, entries(b, r))
	b.SetBytes(int64(len(bin)))
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
		must(b, os.MkdirAll(dir, 0o755))
		writeTree(b, dir, v1)
		writeTarball(b, filepath.Join(dir, "releases", "1.1.0", tarballName(r)), data)
		root, err := install.Open(dir, "app")
		must(b, err)
		b.StartTimer()
		if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnpackSigned is BenchmarkUnpack with a trusted key and the
// tarball's minisign signature: the difference is what the signature
// check costs an upgrade. Run both interleaved:
//
//	go test -run '^$' -bench 'Unpack(Signed)?$' -count 6 ./internal/install/
func BenchmarkUnpackSigned(b *testing.B) {
	bin := make([]byte, 16<<20)
	rand.Read(bin)
	r := rel{name: "app", vsn: "1.1.0", binary: string(bin)}
	data := tarGz(b, entries(b, r))
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	must(b, err)
	sig := install.SignPrehashed(priv, data)
	trusted := []string{pub.String()}
	b.SetBytes(int64(len(bin)))
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
		must(b, os.MkdirAll(dir, 0o755))
		writeTree(b, dir, v1)
		tarball := filepath.Join(dir, "releases", "1.1.0", tarballName(r))
		writeTarball(b, tarball, data)
		must(b, os.WriteFile(install.SignatureFile(tarball), sig, 0o644))
		root, err := install.Open(dir, "app")
		must(b, err)
		b.StartTimer()
		if _, err := root.Unpack("1.1.0", install.UnpackOptions{TrustedKeys: trusted}); err != nil {
			b.Fatal(err)
		}
	}
}
