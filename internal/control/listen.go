package control

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// MaxPath is the longest socket path the kernel accepts: 107 bytes, the
// 108 of sun_path less its terminating NUL.
const MaxPath = 107

// CheckSocketPath returns a *[PathTooLongError] when path is longer than
// [MaxPath], naming the limit, the length and RELEASE_TMP, and nil
// otherwise. The configuration checks the longest socket path it will bind
// with it, so that a RELEASE_TMP too deep is a configuration error at boot
// rather than "bind: invalid argument" later.
func CheckSocketPath(path string) error {
	if len(path) > MaxPath {
		return &PathTooLongError{Path: path, Len: len(path)}
	}
	return nil
}

// Listen creates the control socket at path, mode 0600. Its directory must
// exist, belong to the process's effective user or root and be writable by
// neither group nor others (securedir.Ensure checks that, and its parents).
// A stale socket file nobody answers on is replaced; when a live server
// answers, Listen fails with [ErrRunning]. The socket file is removed when
// the listener is closed.
//
// Callers that may race with another instance hold the release's lock
// (pidfile.TryLock) around Listen.
func Listen(path string) (*net.UnixListener, error) {
	if err := CheckSocketPath(path); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("control socket directory: %w (it is created at boot; check RELEASE_TMP)", err)
	}
	if uid, ok := ownerOf(st); ok && uid != os.Geteuid() && uid != 0 {
		return nil, fmt.Errorf("control socket directory %s belongs to %s, neither the release's user (uid %d) nor root: whoever owns it can replace the socket. Point RELEASE_TMP at a directory of the release's own", dir, who(uid, userName(uid)), os.Geteuid())
	}
	if perm := st.Mode().Perm(); perm&0o022 != 0 {
		return nil, fmt.Errorf("control socket directory %s has mode %04o, writable by other users, who could replace the socket: run `chmod 0700 %s` (or point RELEASE_TMP at a directory of the release's own)", dir, perm, dir)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("control socket path %s exists and is not a socket: move it away", path)
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("%s: %w", path, ErrRunning)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("probe existing control socket %s: %w", path, err)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("remove stale control socket: %w", err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return ln, nil
}

func ownerOf(fi os.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
