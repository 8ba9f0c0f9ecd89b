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

// genSecretCommand prints a random secret.
type genSecretCommand struct {
	length int
}

func (c *genSecretCommand) run(_ context.Context, r *runner, args []string) error {
	fs := r.flags("gen-secret", "[-length N]", genSecretSummary)
	fs.IntVar(&c.length, "length", runtimeconfig.MinSecretKeyBase, "number of characters")
	if err := r.noArgs(fs, args, "gen-secret -length 64"); err != nil {
		return err
	}
	if c.length < 1 || c.length > maxSecretLength {
		return &UsageError{Problem: fmt.Sprintf("-length must be from 1 to %d, got %d", maxSecretLength, c.length), Try: r.app.name + " gen-secret -length 64"}
	}
	s, err := randomSecret(c.length)
	if err != nil {
		return err
	}
	fmt.Fprintln(r.stdout, s)
	if c.length < runtimeconfig.MinSecretKeyBase {
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
