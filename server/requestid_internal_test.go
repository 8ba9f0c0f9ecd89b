package server

import (
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestEncodeIDIsBase64URL holds encodeID to what it replaces:
// base64.RawURLEncoding of the two words as 16 little-endian bytes.
func TestEncodeIDIsBase64URL(t *testing.T) {
	t.Parallel()
	words := [][2]uint64{{0, 0}, {^uint64(0), ^uint64(0)}, {0x0123456789abcdef, 0xfedcba9876543210}}
	for range 1000 {
		words = append(words, [2]uint64{rand.Uint64(), rand.Uint64()})
	}
	for _, w := range words {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:8], w[0])
		binary.LittleEndian.PutUint64(b[8:], w[1])
		want := base64.RawURLEncoding.EncodeToString(b[:])
		var got [22]byte
		encodeID(&got, w[0], w[1])
		if string(got[:]) != want {
			t.Fatalf("encodeID(%#x, %#x): want %s, got %s", w[0], w[1], want, got)
		}
	}
}
