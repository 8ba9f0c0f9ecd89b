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

// MaxPath is the longest socket path the kernel accepts (sun_path less its
// terminating NUL).
const MaxPath = 107

// Listen creates the control socket at path, mode 0600. Its directory must
// exist and be closed to group and others (layout.MkdirPrivate makes it so).
// A stale socket file nobody answers on is replaced; when a live server
// answers, Listen fails with [ErrRunning]. The socket file is removed when
// the listener is closed.
//
// Callers that may race with another instance hold the release's lock
// (pidfile.TryLock) around Listen.
func Listen(path string) (*net.UnixListener, error) {
	if len(path) > MaxPath {
		return nil, fmt.Errorf("control socket path %s is %d bytes, longer than the %d a Unix socket allows: set RELEASE_TMP to a shorter directory", path, len(path), MaxPath)
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("control socket directory: %w (it is created at boot; check RELEASE_TMP)", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("control socket directory %s has mode %04o, open to other users: run `chmod 700 %s` (or point RELEASE_TMP at a private directory)", dir, perm, dir)
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
