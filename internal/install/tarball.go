package install

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/relkit/relkit/internal/layout"
	"github.com/relkit/relkit/internal/relspec"
)

// FindTarball returns the tarball of release vsn waiting in
// ROOT/releases/VSN/, where Exrm's convention has the operator put it:
// NAME-VSN.tar.gz or NAME-VSN-SUFFIX.tar.gz. When several match, the one
// relkit tar names for target ("OS/ARCH", default this machine's) wins;
// without it the choice is the caller's. The error matches [ErrNoTarball].
func (r *Root) FindTarball(vsn, target string) (string, error) {
	if err := CheckVersion(vsn); err != nil {
		return "", err
	}
	dir := layout.Release(r.dir, vsn)
	prefix := r.name + "-" + vsn
	all, err := filepath.Glob(filepath.Join(dir, prefix+"*.tar.gz"))
	if err != nil {
		return "", err
	}
	var found []string
	for _, p := range all {
		rest := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), prefix), ".tar.gz")
		if rest == "" || strings.HasPrefix(rest, "-") {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w for %s %s: put %s (and its .sha256 file) in %s, or name the tarball explicitly with -tarball PATH", ErrNoTarball, r.name, vsn, relspec.TarballName(r.name, vsn, targetOS(target), targetArch(target)), dir)
	case 1:
		return found[0], nil
	}
	want := filepath.Join(dir, relspec.TarballName(r.name, vsn, targetOS(target), targetArch(target)))
	if slices.Contains(found, want) {
		return want, nil
	}
	names := make([]string, len(found))
	for i, p := range found {
		names[i] = filepath.Base(p)
	}
	return "", fmt.Errorf("%w for %s: %s holds %d tarballs (%s) and none named %s: name the tarball explicitly with -tarball PATH", ErrNoTarball, target, dir, len(found), strings.Join(names, ", "), filepath.Base(want))
}

// ChecksumFile returns the path of tarball's checksum file: tarball+".sha256".
func ChecksumFile(tarball string) string { return tarball + ".sha256" }

// readChecksum returns the SHA-256 that tarball's .sha256 file (sha256sum
// format: "HEX  NAME" or "HEX *NAME") records for it.
func readChecksum(tarball string) (string, error) {
	file := ChecksumFile(tarball)
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: %s not found; copy the .sha256 file relkit tar wrote next to the tarball (a tarball is never installed unchecked)", ErrNoChecksum, file)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoChecksum, err)
	}
	base := filepath.Base(tarball)
	var named []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		sum, name, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		name = strings.TrimPrefix(strings.TrimLeft(name, " "), "*")
		named = append(named, name)
		if name != base {
			continue
		}
		if b, err := hex.DecodeString(sum); err != nil || len(b) != sha256.Size {
			return "", fmt.Errorf("%w: %s: %q is not a hex SHA-256; copy the .sha256 file relkit tar wrote", ErrNoChecksum, file, sum)
		}
		return strings.ToLower(sum), nil
	}
	if len(named) > 0 {
		return "", fmt.Errorf("%w: %s has no line for %s (it names %s); a renamed tarball needs its .sha256 regenerated from the original", ErrNoChecksum, file, base, strings.Join(named, ", "))
	}
	return "", fmt.Errorf("%w: %s holds no \"SHA256  NAME\" line; copy the .sha256 file relkit tar wrote", ErrNoChecksum, file)
}

// openVerified opens tarball and checks its SHA-256 against its .sha256
// file; the returned file is positioned at the start.
func openVerified(tarball string) (*os.File, string, error) {
	want, err := readChecksum(tarball)
	if err != nil {
		return nil, "", err
	}
	f, err := os.Open(tarball)
	if err != nil {
		return nil, "", fmt.Errorf("open release tarball: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		f.Close()
		return nil, "", fmt.Errorf("read %s: %w", tarball, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		f.Close()
		return nil, "", fmt.Errorf("%w: %s has SHA-256 %s, %s says %s: the file is damaged or not the one that was built; copy it again", ErrChecksumMismatch, tarball, got, filepath.Base(ChecksumFile(tarball)), want)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, "", err
	}
	return f, want, nil
}

// targetOS and targetArch split "OS/ARCH" ("" means this machine's).
func targetOS(target string) string {
	goos, _, _ := strings.Cut(defaultTarget(target), "/")
	return goos
}

func targetArch(target string) string {
	_, arch, _ := strings.Cut(defaultTarget(target), "/")
	return arch
}
