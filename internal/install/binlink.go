package install

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/relkit/relkit/internal/layout"
)

// switchBin points bin/NAME at ../releases/VSN/NAME and returns the link's
// previous target ("" when bin/NAME did not exist). The release's binary
// must be an executable regular file.
func (r *Root) switchBin(vsn string) (string, error) {
	bin := layout.Binary(r.dir, vsn, r.name)
	info, err := os.Lstat(bin)
	if err != nil {
		return "", fmt.Errorf("%w: release %s has no binary: %v", ErrNotInstalled, vsn, err)
	}
	if !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%w: %s is not an executable file (%s); unpack the release again", ErrNotInstalled, bin, info.Mode())
	}
	return r.switchBinTo(path.Join("..", "releases", vsn, r.name))
}

// switchBinTo replaces bin/NAME with a symbolic link to target in one
// rename(2): the link is created under a temporary name in bin/ and renamed
// over bin/NAME, so bin/NAME always exists and points to a complete
// release. It refuses to replace anything but a symbolic link.
func (r *Root) switchBinTo(target string) (string, error) {
	binDir := filepath.Join(r.dir, "bin")
	link := filepath.Join(binDir, r.name)
	prev := ""
	info, err := os.Lstat(link)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(binDir, 0o755); err != nil {
			return "", fmt.Errorf("create %s: %w", binDir, err)
		}
	case err != nil:
		return "", fmt.Errorf("switch %s: %w", link, err)
	case info.Mode()&fs.ModeSymlink == 0:
		return "", fmt.Errorf("%s is a %s, not a symbolic link to releases/VSN/%s: relkit will not replace it; move it away and retry", link, info.Mode().Type(), r.name)
	default:
		if prev, err = os.Readlink(link); err != nil {
			return "", fmt.Errorf("switch %s: %w", link, err)
		}
	}
	tmp, err := tempSymlink(target, binDir, "."+r.name+".new-")
	if err != nil {
		return "", fmt.Errorf("switch %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("switch %s: %w", link, err)
	}
	if err := syncDir(binDir); err != nil {
		return prev, fmt.Errorf("switch %s: flush %s: %w", link, binDir, err)
	}
	return prev, nil
}

// tempSymlink creates a symbolic link to target named prefix+random in dir.
func tempSymlink(target, dir, prefix string) (string, error) {
	for range 10 {
		var b [8]byte
		rand.Read(b[:])
		p := filepath.Join(dir, prefix+hex.EncodeToString(b[:]))
		err := os.Symlink(target, p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("cannot create a temporary link in %s", dir)
}
