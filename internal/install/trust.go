package install

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"aead.dev/minisign"
)

// ErrUntrusted: trusted keys are set and the tarball has no valid
// signature by one of them.
var ErrUntrusted = errors.New("release tarball is not signed by a trusted key")

// SignatureFile returns the path of tarball's minisign signature:
// tarball+".minisig".
func SignatureFile(tarball string) string { return tarball + ".minisig" }

// ParseTrustedKeys parses minisign public keys, each the base64 line of a
// minisign .pub file ("RW..."). It names the key that does not parse.
func ParseTrustedKeys(keys []string) ([]minisign.PublicKey, error) {
	out := make([]minisign.PublicKey, 0, len(keys))
	for i, k := range keys {
		var pk minisign.PublicKey
		if err := pk.UnmarshalText([]byte(strings.TrimSpace(k))); err != nil {
			return nil, fmt.Errorf("%w: trusted key %d (%.12s...) is not a minisign public key: %v; give the second line of the .pub file relkit keygen wrote", ErrUntrusted, i+1, k, err)
		}
		out = append(out, pk)
	}
	return out, nil
}

// verifySignature checks that tarball+".minisig" is a valid signature of
// the tarball's bytes by one of trusted. It runs before anything is
// unpacked; no trusted keys means no check.
func verifySignature(tarball string, trusted []string) error {
	if len(trusted) == 0 {
		return nil
	}
	keys, err := ParseTrustedKeys(trusted)
	if err != nil {
		return err
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = fmt.Sprintf("%016X", k.ID())
	}
	trustedIDs := strings.Join(ids, ", ")
	sigFile := SignatureFile(tarball)
	sigData, err := os.ReadFile(sigFile)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s not found; this release installs only tarballs signed by a trusted key (%s): sign it with relkit sign -key KEYFILE %s and copy the .minisig next to it", ErrUntrusted, sigFile, trustedIDs, tarball)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	var sig minisign.Signature
	if err := sig.UnmarshalText(sigData); err != nil {
		return fmt.Errorf("%w: %s is not a minisign signature: %v", ErrUntrusted, sigFile, err)
	}
	found := fmt.Sprintf("%016X", sig.KeyID)
	var key *minisign.PublicKey
	for i := range keys {
		if keys[i].ID() == sig.KeyID {
			key = &keys[i]
		}
	}
	if key == nil {
		return fmt.Errorf("%w: %s is signed by key %s, which this release does not trust (trusted: %s)", ErrUntrusted, tarball, found, trustedIDs)
	}
	if sig.Algorithm != minisign.HashEdDSA {
		return fmt.Errorf("%w: %s is a legacy (non-prehashed) minisign signature; sign again with relkit sign or minisign -S", ErrUntrusted, sigFile)
	}
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := minisign.NewReader(f)
	if err := drain(rd); err != nil {
		return fmt.Errorf("read %s: %w", tarball, err)
	}
	if !rd.Verify(*key, sigData) {
		return fmt.Errorf("%w: the signature %s (key %s) does not match the bytes of %s: the tarball was changed after it was signed; copy the signed tarball again", ErrUntrusted, sigFile, found, tarball)
	}
	return nil
}

// drain reads r to its end in 1 MiB reads. io.Copy(io.Discard, r) would
// read 8 KiB at a time (io.Discard's ReadFrom ignores any buffer given),
// 2,048 read calls for a 16 MiB tarball instead of 16.
func drain(r io.Reader) error {
	buf := make([]byte, 1<<20)
	for {
		_, err := r.Read(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
