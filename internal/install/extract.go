package install

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Bounds on what one release tarball may unpack to; [UnpackOptions]
// overrides them.
const (
	// DefaultMaxSize bounds the total size of the files a tarball unpacks
	// to: 1 GiB, some thirty times a large Go binary.
	DefaultMaxSize int64 = 1 << 30
	// DefaultMaxEntries bounds the number of entries of a tarball: 10 000.
	// A relkit release has a handful.
	DefaultMaxEntries = 10_000
	// headerAllowance is the tar header overhead allowed per entry on top
	// of MaxSize when bounding the decompressed stream.
	headerAllowance = 8 << 10
)

// Mode bits a release file must not carry.
const specialBits = 0o4000 | 0o2000 | 0o1000 // setuid, setgid, sticky

type kind uint8

const (
	kindDir kind = iota + 1
	kindFile
	kindSymlink
)

type node struct {
	kind     kind
	explicit bool // listed in the tarball, not only implied by a child
}

// extractor unpacks one release tarball into a staging directory, entry by
// entry, refusing anything a release of name/vsn should not contain.
type extractor struct {
	tarball    string // for messages
	stage      string // staging root; entries land at stage/NAME
	name, vsn  string
	relDir     string // "releases/VSN"
	maxSize    int64
	maxEntries int

	nodes   map[string]*node
	size    int64
	count   int
	files   []string // files and links unpacked, slash paths, in order
	dirs    []string // directories created, slash paths
	skipped []string // files and links at the release root, not unpacked
}

func newExtractor(tarball, stage, name, vsn string, maxSize int64, maxEntries int) *extractor {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &extractor{
		tarball: tarball, stage: stage, name: name, vsn: vsn,
		relDir:  path.Join("releases", vsn),
		maxSize: maxSize, maxEntries: maxEntries,
		nodes: map[string]*node{},
	}
}

func (x *extractor) reject(entry string, sentinel error, format string, args ...any) error {
	return &EntryError{Tarball: x.tarball, Entry: entry, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

func (x *extractor) damaged(err error) error {
	return fmt.Errorf("%w: %s cannot be read as a gzip-compressed tar (%v); it matches its .sha256, so it was damaged before the checksum was made: build it again", ErrDamaged, x.tarball, err)
}

// errStreamTooLarge is returned by boundedReader past its bound.
var errStreamTooLarge = errors.New("decompressed stream exceeds its bound")

// boundedReader returns errStreamTooLarge once more than n bytes are read.
type boundedReader struct {
	r io.Reader
	n int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		var one [1]byte
		if k, err := b.r.Read(one[:]); k == 0 && err != nil {
			return 0, err
		}
		return 0, errStreamTooLarge
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

// extract unpacks the gzip-compressed tar read from r.
func (x *extractor) extract(r io.Reader) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return x.damaged(err)
	}
	br := &boundedReader{r: zr, n: x.maxSize + int64(x.maxEntries)*headerAllowance + 1<<20}
	tr := tar.NewReader(br)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, tar.ErrInsecurePath) {
			err = nil // with GODEBUG=tarinsecurepath=0; entry refuses it with a reason
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return x.readError("", err)
		}
		x.count++
		if x.count > x.maxEntries {
			return x.reject(hdr.Name, ErrTooLarge, "is beyond the bound of %d entries for one release", x.maxEntries)
		}
		if err := x.entry(tr, hdr); err != nil {
			return err
		}
	}
	// Read to the end of the gzip stream so that its checksum is verified.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return x.readError("", err)
	}
	return nil
}

func (x *extractor) readError(entry string, err error) error {
	if errors.Is(err, errStreamTooLarge) {
		return x.reject(entry, ErrTooLarge, "takes the decompressed tarball over %d bytes, the bound for one release", x.maxSize)
	}
	return x.damaged(err)
}

// entry checks one tar entry and creates it under the staging directory.
func (x *extractor) entry(tr *tar.Reader, hdr *tar.Header) error {
	raw := hdr.Name
	name := raw
	for strings.HasPrefix(name, "./") {
		name = name[2:]
	}
	name = strings.TrimSuffix(name, "/")
	isDir := hdr.Typeflag == tar.TypeDir

	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
	case tar.TypeXGlobalHeader:
		return nil // pax comments, e.g. from git archive
	case tar.TypeChar, tar.TypeBlock:
		return x.reject(raw, ErrUnsafeEntry, "is a device file")
	case tar.TypeFifo:
		return x.reject(raw, ErrUnsafeEntry, "is a named pipe")
	default:
		return x.reject(raw, ErrUnsafeEntry, "has tar type %q, which a release does not contain (only directories, regular files and links)", hdr.Typeflag)
	}
	switch {
	case name == "" || name == ".":
		if isDir {
			return nil // the archive's own root
		}
		return x.reject(raw, ErrUnsafeEntry, "has no name")
	case strings.HasPrefix(name, "/"):
		return x.reject(raw, ErrUnsafeEntry, "is an absolute path")
	case slices.Contains(strings.Split(name, "/"), ".."):
		return x.reject(raw, ErrUnsafeEntry, "climbs out of the release with \"..\"")
	case !fs.ValidPath(name) || strings.ContainsAny(name, "\\\x00"):
		return x.reject(raw, ErrUnsafeEntry, "is not a clean relative path")
	}
	if hdr.Mode&specialBits != 0 {
		return x.reject(raw, ErrUnsafeEntry, "has the setuid, setgid or sticky bit (mode %#o)", hdr.Mode)
	}

	binLink := path.Join("bin", x.name)
	switch {
	case name == "bin" || name == "releases" || name == "tmp" || name == "log" || name == x.relDir:
		if !isDir {
			return x.reject(raw, ErrUnsafeEntry, "must be a directory")
		}
		if name == "tmp" || name == "log" {
			return x.add(raw, name, kindDir) // the running release's directories: nothing to install
		}
	case path.Dir(name) == "bin" && hdr.Typeflag == tar.TypeSymlink && strings.HasPrefix(hdr.Linkname, "../releases/"):
		if other, _, _ := strings.Cut(strings.TrimPrefix(hdr.Linkname, "../releases/"), "/"); other != x.vsn {
			return x.reject(raw, ErrWrongRelease, "starts release %s, not %s: the tarball is for another version", other, x.vsn)
		}
		if other := path.Base(hdr.Linkname); name != binLink && other == path.Base(name) {
			return x.reject(raw, ErrWrongRelease, "starts release %s, not %s: the tarball is of another release", other, x.name)
		}
		if want := path.Join("..", x.relDir, x.name); name != binLink || hdr.Linkname != want {
			return x.reject(raw, ErrUnsafeEntry, "must be a symbolic link to %s", want)
		}
	case name == binLink:
		if want := path.Join("..", x.relDir, x.name); hdr.Typeflag != tar.TypeSymlink || hdr.Linkname != want {
			return x.reject(raw, ErrUnsafeEntry, "must be a symbolic link to %s", want)
		}
	case strings.HasPrefix(name, x.relDir+"/"):
		if name == path.Join(x.relDir, "release.json") && hdr.Typeflag != tar.TypeReg {
			return x.reject(raw, ErrUnsafeEntry, "must be a regular file")
		}
	case strings.HasPrefix(name, "releases/"):
		other, _, _ := strings.Cut(strings.TrimPrefix(name, "releases/"), "/")
		return x.reject(raw, ErrWrongRelease, "belongs to release %s, not %s: the tarball is for another version", other, x.vsn)
	case strings.HasPrefix(name, "tmp/") || strings.HasPrefix(name, "log/"):
		return x.reject(raw, ErrUnsafeEntry, "lies in %s/, which belongs to the running release, not to a release tarball", name[:3])
	default:
		// A file at the release root: an overlay (rel/overlays). An
		// upgrade installs only releases/VSN/ and bin/NAME; the root's
		// files are the operator's to update.
		if hdr.Typeflag != tar.TypeDir {
			x.skipped = append(x.skipped, name)
		}
		return nil
	}

	if err := x.checkPlace(raw, name, isDir); err != nil {
		return err
	}
	dst := filepath.Join(x.stage, filepath.FromSlash(name))
	switch hdr.Typeflag {
	case tar.TypeDir:
		if n := x.nodes[name]; n != nil { // created already as a parent
			n.explicit = true
			return nil
		}
		if err := os.Mkdir(dst, 0o755); err != nil {
			return x.writeError(raw, err)
		}
		x.dirs = append(x.dirs, name)
		return x.add(raw, name, kindDir)
	case tar.TypeReg:
		if hdr.Size < 0 || hdr.Size > x.maxSize-x.size {
			return x.reject(raw, ErrTooLarge, "takes the unpacked size over %d bytes, the bound for one release", x.maxSize)
		}
		x.size += hdr.Size
		if err := x.writeFile(tr, dst, hdr); err != nil {
			return err
		}
		return x.add(raw, name, kindFile)
	case tar.TypeSymlink:
		if name != binLink {
			if reason := x.symlinkProblem(name, hdr.Linkname); reason != "" {
				return x.reject(raw, ErrUnsafeEntry, "is a symbolic link to %q, %s", hdr.Linkname, reason)
			}
		}
		if err := os.Symlink(hdr.Linkname, dst); err != nil {
			return x.writeError(raw, err)
		}
		return x.add(raw, name, kindSymlink)
	default: // tar.TypeLink
		target := strings.TrimPrefix(path.Clean(hdr.Linkname), "./")
		if n := x.nodes[target]; n == nil || n.kind != kindFile || !strings.HasPrefix(target, x.relDir+"/") {
			return x.reject(raw, ErrUnsafeEntry, "is a hard link to %q, which is not a file unpacked before it into %s/", hdr.Linkname, x.relDir)
		}
		if err := os.Link(filepath.Join(x.stage, filepath.FromSlash(target)), dst); err != nil {
			return x.writeError(raw, err)
		}
		return x.add(raw, name, kindFile)
	}
}

// checkPlace refuses a second entry of the same name and an entry below a
// non-directory, then creates the entry's missing parent directories.
func (x *extractor) checkPlace(raw, name string, isDir bool) error {
	if n := x.nodes[name]; n != nil && (!isDir || n.kind != kindDir || n.explicit) {
		return x.reject(raw, ErrUnsafeEntry, "appears twice in the tarball")
	}
	var missing []string
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		n := x.nodes[d]
		if n == nil {
			missing = append(missing, d)
			continue
		}
		if n.kind != kindDir {
			return x.reject(raw, ErrUnsafeEntry, "lies below %s, which the tarball makes a file or link, not a directory", d)
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := os.Mkdir(filepath.Join(x.stage, filepath.FromSlash(d)), 0o755); err != nil {
			return x.writeError(raw, err)
		}
		x.nodes[d] = &node{kind: kindDir}
		x.dirs = append(x.dirs, d)
	}
	return nil
}

func (x *extractor) add(raw, name string, k kind) error {
	if n := x.nodes[name]; n != nil && k == kindDir && n.kind == kindDir {
		if n.explicit {
			return x.reject(raw, ErrUnsafeEntry, "appears twice in the tarball")
		}
		n.explicit = true
		return nil
	}
	x.nodes[name] = &node{kind: k, explicit: true}
	if k != kindDir {
		x.files = append(x.files, name)
	}
	return nil
}

// symlinkProblem says why a link at name (inside releases/VSN/) to target
// could reach outside releases/VSN/, or "" when it cannot. The target must
// be relative and clean, so ".." can only lead it, and those leading ".."
// climb real directories of the tarball (an entry below a link is
// refused); what follows only descends. Resolving it from the link's
// directory must stay inside releases/VSN/.
func (x *extractor) symlinkProblem(name, target string) string {
	switch {
	case target == "":
		return "which is empty"
	case path.IsAbs(target):
		return "an absolute path"
	case path.Clean(target) != target:
		return "which is not a clean relative path (no \"//\", \"./\" or \"..\" after a name)"
	}
	resolved := path.Join(path.Dir(name), target)
	if resolved != x.relDir && !strings.HasPrefix(resolved, x.relDir+"/") {
		return fmt.Sprintf("which escapes %s/ (it resolves to %s)", x.relDir, resolved)
	}
	return ""
}

// writeFile creates dst with the entry's content: mode 0755 when any
// execute bit is set, 0644 otherwise (as relkit tar normalises them),
// flushed to disk.
func (x *extractor) writeFile(tr *tar.Reader, dst string, hdr *tar.Header) error {
	perm := os.FileMode(0o644)
	if hdr.Mode&0o111 != 0 {
		perm = 0o755
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, perm)
	if err != nil {
		return x.writeError(hdr.Name, err)
	}
	w := &tagWriter{w: f}
	n, err := io.Copy(w, tr)
	if err == nil && n != hdr.Size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		f.Close()
		if w.err != nil { // the disk, not the tarball
			return x.writeError(hdr.Name, w.err)
		}
		return x.readError(hdr.Name, err)
	}
	if err := f.Chmod(perm); err != nil { // the umask may have narrowed it
		f.Close()
		return x.writeError(hdr.Name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return x.writeError(hdr.Name, err)
	}
	if err := f.Close(); err != nil {
		return x.writeError(hdr.Name, err)
	}
	return nil
}

// tagWriter remembers the error of its writer, so that a failed copy can
// tell a write error (the disk) from a read error (the tarball).
type tagWriter struct {
	w   io.Writer
	err error
}

func (t *tagWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil {
		t.err = err
	}
	return n, err
}

// writeError reports a failure to create or write entry under the staging
// directory: the disk's error (out of space, quota, I/O), not the
// tarball's.
func (x *extractor) writeError(entry string, err error) error {
	where := filepath.Dir(filepath.Dir(x.stage)) // the root
	if isNoSpace(err) {
		return fmt.Errorf("%w: writing %s of release %s under %s failed: %v; nothing was installed: free space on that file system (or raise the quota) and retry", ErrNoSpace, entry, x.vsn, where, err)
	}
	return fmt.Errorf("%w: writing %s of release %s under %s failed: %v; nothing was installed: the tarball was read fine, check the disk (dmesg) and retry", ErrWrite, entry, x.vsn, where, err)
}
