package install_test

import (
	"bytes"
	"io"

	"aead.dev/minisign"
)

// signPrehashed signs data as relkit sign does: a prehashed (BLAKE2b)
// minisign signature.
func signPrehashed(priv minisign.PrivateKey, data []byte) []byte {
	rd := minisign.NewReader(bytes.NewReader(data))
	io.Copy(io.Discard, rd)
	return rd.Sign(priv)
}
