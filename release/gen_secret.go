package release

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/relkit/relkit/runtimeconfig"
)

const genSecretSummary = "print a random secret for SECRET_KEY_BASE (like mix phx.gen.secret)"

// secretAlphabet has 64 URL- and shell-safe symbols, so each random byte's
// low six bits pick one uniformly.
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

const maxSecretLength = 4096

func (r *runner[C]) genSecret(_ context.Context, args []string) error {
	fs := r.flags("gen-secret", "[-length N]", genSecretSummary)
	n := fs.Int("length", runtimeconfig.MinSecretKeyBase, "number of characters")
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &UsageError{Problem: fmt.Sprintf("gen-secret takes no arguments, got %q", fs.Arg(0)), Try: r.name + " gen-secret -length 64"}
	}
	if *n < 1 || *n > maxSecretLength {
		return &UsageError{Problem: fmt.Sprintf("-length must be from 1 to %d, got %d", maxSecretLength, *n), Try: r.name + " gen-secret -length 64"}
	}
	s, err := randomSecret(*n)
	if err != nil {
		return err
	}
	fmt.Fprintln(r.stdout, s)
	if *n < runtimeconfig.MinSecretKeyBase {
		fmt.Fprintf(r.stderr, "note: SECRET_KEY_BASE needs at least %d characters\n", runtimeconfig.MinSecretKeyBase)
	}
	return nil
}

func randomSecret(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	for i := range b {
		b[i] = secretAlphabet[b[i]&63]
	}
	return string(b), nil
}
