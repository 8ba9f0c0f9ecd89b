//go:build unix

package securedir

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// maxLinks is how many symbolic links a walk follows, as Linux's
// path resolution does.
const maxLinks = 40

// Ensure makes dir a directory only uid and root control: it creates dir
// and any missing parent (mode 0700) without following symbolic links,
// then checks dir and every parent against the rules in the package
// documentation. It returns nil when dir is safe to use, an *[Error] when a
// rule is broken, and another error when the walk itself fails (e.g. a
// parent the process may not search). uid is the effective uid of the
// process that will use dir.
func Ensure(dir string, uid int) error { return walk(dir, uid, true) }

// Check is [Ensure] without creating anything: a missing directory is an
// error matching fs.ErrNotExist.
func Check(dir string, uid int) error { return walk(dir, uid, false) }

type node struct {
	fd   int
	path string // with links resolved
}

type walker struct {
	asked string
	abs   string
	uid   int
	stack []node
}

func walk(dir string, uid int, create bool) (err error) {
	if dir == "" {
		return errors.New("securedir: no directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("securedir: %s: %w", dir, err)
	}
	w := &walker{asked: dir, abs: abs, uid: uid}
	defer w.closeAll()
	root, err := unix.Open("/", openFlags, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: "/", Err: err}
	}
	w.stack = append(w.stack, node{fd: root, path: "/"})

	pending := split(abs)
	links := 0
	for len(pending) > 0 {
		name := pending[0]
		pending = pending[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			w.pop()
			continue
		}
		parent := w.top()
		if err := w.checkParent(parent); err != nil {
			return err
		}
		path := filepath.Join(parent.path, name)
		fd, err := openAt(parent.fd, name)
		if errors.Is(err, unix.ENOENT) && create {
			if err := unix.Mkdirat(parent.fd, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
				return &fs.PathError{Op: "mkdir", Path: path, Err: err}
			}
			fd, err = openAt(parent.fd, name)
		}
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			var st unix.Stat_t
			if serr := unix.Fstatat(parent.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); serr != nil {
				return &fs.PathError{Op: "lstat", Path: path, Err: serr}
			}
			if uint32(st.Mode)&unix.S_IFMT != unix.S_IFLNK {
				return w.refuse(path, &st, NotDirectory, false, len(pending) > 0)
			}
			if !w.trusted(int(st.Uid)) {
				return w.refuse(path, &st, OwnedByOther, true, false)
			}
			if links++; links > maxLinks {
				return w.refuse(path, &st, TooManyLinks, true, false)
			}
			target, err := readlinkAt(parent.fd, name)
			if err != nil {
				return &fs.PathError{Op: "readlink", Path: path, Err: err}
			}
			if filepath.IsAbs(target) {
				w.popAll()
			}
			pending = append(split(target), pending...)
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "open", Path: path, Err: err}
		}
		w.stack = append(w.stack, node{fd: fd, path: path})
	}
	return w.checkTarget(w.top())
}

func split(p string) []string { return strings.Split(p, "/") }

func openAt(dirfd int, name string) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, openFlags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func readlinkAt(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

func (w *walker) top() node { return w.stack[len(w.stack)-1] }

func (w *walker) pop() {
	if len(w.stack) > 1 {
		unix.Close(w.top().fd)
		w.stack = w.stack[:len(w.stack)-1]
	}
}

func (w *walker) popAll() {
	for len(w.stack) > 1 {
		w.pop()
	}
}

func (w *walker) closeAll() {
	for _, n := range w.stack {
		unix.Close(n.fd)
	}
	w.stack = nil
}

func (w *walker) trusted(uid int) bool { return uid == 0 || uid == w.uid }

func (w *walker) stat(n node) (*unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Fstat(n.fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: n.path, Err: err}
	}
	return &st, nil
}

func (w *walker) checkParent(n node) error {
	st, err := w.stat(n)
	if err != nil {
		return err
	}
	switch {
	case !w.trusted(int(st.Uid)):
		return w.refuse(n.path, st, OwnedByOther, false, true)
	case uint32(st.Mode)&0o022 != 0 && uint32(st.Mode)&unix.S_ISVTX == 0:
		return w.refuse(n.path, st, ParentWritable, false, true)
	}
	return nil
}

func (w *walker) checkTarget(n node) error {
	st, err := w.stat(n)
	if err != nil {
		return err
	}
	switch {
	case !w.trusted(int(st.Uid)):
		return w.refuse(n.path, st, OwnedByOther, false, false)
	case uint32(st.Mode)&0o022 != 0:
		return w.refuse(n.path, st, WritableByOthers, false, false)
	}
	return nil
}

func (w *walker) refuse(path string, st *unix.Stat_t, p Problem, link, parent bool) *Error {
	return &Error{
		Path: w.asked, Abs: w.abs, Dir: path, Link: link, Parent: parent, Problem: p,
		UID: int(st.Uid), Owner: userName(int(st.Uid)), Mode: fileMode(uint32(st.Mode)),
		User: w.uid, UserName: userName(w.uid),
	}
}

func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	return mode
}
