package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"aead.dev/minisign"
)

func signCommand() *command {
	return &command{
		name:     "sign",
		synopsis: "-key KEYFILE TARBALL...",
		summary:  "sign release tarballs with a minisign key: TARBALL.minisig",
		long: `The signature covers the tarball's bytes and names the key ID. An encrypted
KEYFILE is opened with the passphrase in ` + passphraseVar + `.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *osEnv, []string) error {
			key := fs.String("key", "", "the secret key file relkit keygen wrote")
			return func(ctx context.Context, e *osEnv, args []string) error {
				if *key == "" || len(args) == 0 {
					return usagef("relkit sign -key release.key app-1.0.0-linux-amd64.tar.gz", "sign needs -key KEYFILE and at least one TARBALL")
				}
				priv, err := loadSecretKey(e, *key)
				if err != nil {
					return err
				}
				for _, t := range args {
					if err := signTarball(e, priv, e.abs(t)); err != nil {
						return err
					}
				}
				return nil
			}
		},
	}
}

// loadSecretKey reads the secret key in file, decrypting it with the
// passphrase in RELKIT_SIGN_PASSPHRASE when it is encrypted.
func loadSecretKey(e *osEnv, file string) (minisign.PrivateKey, error) {
	var priv minisign.PrivateKey
	data, err := os.ReadFile(e.abs(file))
	if err != nil {
		return priv, fmt.Errorf("read secret key: %w", err)
	}
	if !minisign.IsEncrypted(data) {
		err = priv.UnmarshalText(data)
	} else {
		pass := e.env[passphraseVar]
		if pass == "" {
			return priv, usagef("RELKIT_SIGN_PASSPHRASE=... relkit sign -key "+file+" TARBALL", "%s is encrypted: set %s to its passphrase", file, passphraseVar)
		}
		priv, err = minisign.DecryptKey(pass, data)
	}
	if err != nil {
		return priv, fmt.Errorf("%s: not a usable minisign secret key (wrong passphrase?): %v", file, err)
	}
	return priv, nil
}

// signTarball writes tarball+".minisig".
func signTarball(e *osEnv, priv minisign.PrivateKey, tarball string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := minisign.NewReader(f)
	if _, err := io.Copy(io.Discard, rd); err != nil {
		return err
	}
	sig := rd.SignWithComments(priv, "file:"+filepath.Base(tarball), "signature from relkit")
	if err := os.WriteFile(tarball+".minisig", sig, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "* signature %s (key %016X)\n", e.display(tarball+".minisig"), priv.ID())
	return nil
}
