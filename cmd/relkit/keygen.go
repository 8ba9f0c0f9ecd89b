package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"aead.dev/minisign"
)

// passphraseVar is the environment variable keygen, sign and build -sign
// read the secret key's passphrase from.
const passphraseVar = "RELKIT_SIGN_PASSPHRASE"

func keygenCommand() *command {
	return &command{
		name:     "keygen",
		synopsis: "[-unencrypted] KEYFILE",
		summary:  "write a minisign key pair: KEYFILE (secret) and KEYFILE.pub (the key an app trusts)",
		long: `The secret key is encrypted with the passphrase in ` + passphraseVar + `;
-unencrypted writes it in the clear, for a CI secret store. KEYFILE.pub is a
minisign public key file: its second line ("RW...") goes into
release.App.TrustedKeys. Existing files are never overwritten.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *osEnv, []string) error {
			plain := fs.Bool("unencrypted", false, "write the secret key unencrypted (for CI secrets)")
			return func(ctx context.Context, e *osEnv, args []string) error { return runKeygen(e, *plain, args) }
		},
	}
}

func runKeygen(e *osEnv, plain bool, args []string) error {
	if len(args) != 1 {
		return usagef("relkit keygen release.key", "keygen takes one KEYFILE")
	}
	file := e.abs(args[0])
	pass := e.env[passphraseVar]
	if !plain && pass == "" {
		return usagef("RELKIT_SIGN_PASSPHRASE=... relkit keygen "+args[0]+"   (or relkit keygen -unencrypted "+args[0]+")", "no passphrase: set %s, or pass -unencrypted", passphraseVar)
	}
	for _, f := range []string{file, file + ".pub"} {
		if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s exists: keygen never overwrites a key; remove it or choose another name", e.display(f))
		}
	}
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	var sec []byte
	if plain {
		sec, err = priv.MarshalText()
	} else {
		sec, err = minisign.EncryptKey(pass, priv)
	}
	if err != nil {
		return err
	}
	pubText, err := pub.MarshalText()
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, sec, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(file+".pub", []byte(fmt.Sprintf("untrusted comment: minisign public key %016X\n%s\n", pub.ID(), pubText)), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "* secret key %s\n* public key %s (id %016X)\n  trust it: release.App{TrustedKeys: []string{%q}}\n", e.display(file), e.display(file+".pub"), pub.ID(), pub.String())
	return nil
}
