package install

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"io"
	"path"
	"strings"
	"syscall"

	"github.com/relkit/relkit/internal/manifest"
)

// freeSpace returns the bytes available to this user on the file system
// of dir. A variable so that tests can fake a disk that fills while
// unpacking.
var freeSpace = func(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// blockSize is what each file, link and directory is assumed to take at
// least on disk, and what a file's size is rounded up to.
const blockSize = 4096

// checkSpace reads the release.json out of the tarball f and refuses the
// unpack with a [SpaceError] when what it lists under releases/VSN/ takes
// more than the root's file system has free. A tarball whose release.json
// cannot be found or read is not refused here: unpacking it reports what
// is wrong with it.
func (r *Root) checkSpace(f io.Reader, x *extractor) error {
	m := x.peekManifest(f)
	if m == nil {
		return nil
	}
	var need int64
	for _, file := range m.Files {
		if strings.HasPrefix(file.Path, x.relDir+"/") {
			need += (file.Size + blockSize - 1) / blockSize * blockSize
			if file.Size == 0 {
				need += blockSize
			}
		}
	}
	need += 2 * blockSize // the release's directory and release.json itself
	free, err := freeSpace(r.releasesDir())
	if err != nil {
		return nil // no figure to compare with; writes still report ENOSPC
	}
	if need > free {
		return &SpaceError{Root: r.dir, Version: x.vsn, Need: need, Free: free}
	}
	return nil
}

// peekManifest returns the release.json of releases/VSN/ in the tarball
// read from f, or nil when there is none or it cannot be read. It reads
// no further than that entry, and no more than the extractor's bounds.
func (x *extractor) peekManifest(f io.Reader) *manifest.Manifest {
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil
	}
	want := path.Join(x.relDir, manifest.FileName)
	tr := tar.NewReader(&boundedReader{r: zr, n: x.maxSize + int64(x.maxEntries)*headerAllowance + 1<<20})
	for range x.maxEntries {
		hdr, err := tr.Next()
		if errors.Is(err, tar.ErrInsecurePath) {
			err = nil
		}
		if err != nil {
			return nil
		}
		if name := path.Clean(hdr.Name); name != want || hdr.Typeflag != tar.TypeReg {
			continue
		}
		if hdr.Size > 16<<20 {
			return nil
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil
		}
		m, err := manifest.Parse(b)
		if err != nil {
			return nil
		}
		return m
	}
	return nil
}

// isNoSpace reports whether err is the file system running out of space
// or of the user's quota.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
