package logfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/relkit/relkit/internal/safefile"
)

// Options configures a [Writer]. The zero value rotates at 10 MiB and keeps
// 5 old files.
type Options struct {
	// MaxSize is the size in bytes the file may reach before it is rotated.
	// Default 10 MiB ([DefaultMaxSize]).
	MaxSize int64

	// Keep is how many rotated files (NAME.1 … NAME.Keep) are kept; older
	// ones are deleted. Default 5 ([DefaultKeep]).
	Keep int

	// Perm is the mode of newly created log files. Default 0600: logs may
	// hold data only the release's user should read.
	Perm os.FileMode
}

// Defaults applied by [Open] to zero fields of [Options].
const (
	DefaultMaxSize = 10 << 20
	DefaultKeep    = 5
	DefaultPerm    = 0o600
)

func (o Options) withDefaults() Options {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.Keep <= 0 {
		o.Keep = DefaultKeep
	}
	if o.Perm == 0 {
		o.Perm = DefaultPerm
	}
	return o
}

// Writer appends to a log file and rotates it by size. It is safe for
// concurrent use; each Write lands in one file, whole.
type Writer struct {
	path string
	opts Options

	mu     sync.Mutex
	f      *os.File // nil after Close, or after a rotation failed to reopen
	closed bool
	size   int64
	// onOpen is called with each newly opened file; see [Writer.OnOpen].
	onOpen func(*os.File)
	// beforeReopen, set by tests, runs between a rotation's renames and
	// the creation of the new file: when another user would plant a link.
	beforeReopen func(path string)
}

// Open opens (appending) or creates the log file at path. Its directory must
// exist (securedir.Ensure checks that nobody else controls it). A path that
// is a symbolic link, a FIFO or device, a hard link, or a file of another
// user is refused with an error matching [ErrNotRegular]; so is one planted
// at a rotation, and the next Write tries again.
func Open(path string, opts Options) (*Writer, error) {
	w := &Writer{path: path, opts: opts.withDefaults()}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open() error {
	f, err := openFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, w.opts.Perm)
	if err != nil {
		if errors.Is(err, ErrNotRegular) {
			return err
		}
		return fmt.Errorf("open log file: %w (check that RELEASE_LOG_DIR exists and is writable)", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log file: %w", err)
	}
	w.f, w.size = f, st.Size()
	if w.onOpen != nil {
		w.onOpen(f)
	}
	return nil
}

// openFile opens the log file at path through safefile: never through a
// link, a FIFO or a hard link.
func openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := safefile.Open(path, flag, perm)
	var e *safefile.Error
	if errors.As(err, &e) {
		return nil, unsafeFile(path, e.Reason)
	}
	return f, err
}

func unsafeFile(path, what string) error {
	return fmt.Errorf("log file %s %s, %w: relkit never opens such a file, since whoever could plant it may aim it at another one. Fix: check who made it, remove it (rm %s), and make sure nobody but the release's user can write RELEASE_LOG_DIR", path, what, ErrNotRegular, path)
}

// Path returns the path of the current log file.
func (w *Writer) Path() string { return w.path }

// OnOpen registers fn to be called with the current file now and with each
// new file after a rotation, for example to point the process's own stderr at
// it. fn must not write to w.
func (w *Writer) OnOpen(fn func(*os.File)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.onOpen = fn
	if w.f != nil {
		fn(w.f)
	}
}

// Write appends p to the file, rotating first when p would take the file past
// MaxSize.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, os.ErrClosed
	}
	if w.f == nil {
		// A rotation could not reopen the file: try again, so logging
		// resumes once the cause is fixed.
		if err := w.open(); err != nil {
			return 0, err
		}
	}
	if w.size > 0 && w.size+int64(len(p)) > w.opts.MaxSize {
		if err := w.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	return n, err
}

// Rotate moves the current file to NAME.1 (shifting older backups up and
// dropping the one past Keep) and starts an empty file.
func (w *Writer) Rotate() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return os.ErrClosed
	}
	if w.f == nil {
		return w.open()
	}
	return w.rotate()
}

func (w *Writer) rotate() error {
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("rotate log file: %w", err)
	}
	w.f = nil
	if err := os.Remove(Backup(w.path, w.opts.Keep)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rotate log file: %w", err)
	}
	for i := w.opts.Keep - 1; i >= 1; i-- {
		if err := os.Rename(Backup(w.path, i), Backup(w.path, i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotate log file: %w", err)
		}
	}
	// Renames and removals act on a planted link itself, never on what it
	// points to; only the reopen below could follow one, and it does not.
	if err := os.Rename(w.path, Backup(w.path, 1)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rotate log file: %w", err)
	}
	if w.beforeReopen != nil {
		w.beforeReopen(w.path)
	}
	return w.open()
}

// Close closes the file. Writes after Close fail with os.ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// Backup returns the name of the n-th rotated file of the log at path:
// path.1 is the newest.
func Backup(path string, n int) string { return path + "." + strconv.Itoa(n) }

// ParseSize parses a size such as "10485760", "512K", "10M" or "1G" (binary
// multiples; a trailing "B" or "iB" is accepted, case does not matter).
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult, t = 1<<10, t[:n-1]
		case 'M':
			mult, t = 1<<20, t[:n-1]
		case 'G':
			mult, t = 1<<30, t[:n-1]
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, optionally with K, M or G (e.g. 10M)", s)
	}
	return n * mult, nil
}

// Tail returns the last n lines of the file at path (fewer when the file is
// shorter), without their newlines. It reads at most the last 64 KiB, and
// refuses (with [ErrNotRegular]) a log file that is a link or otherwise not
// the release's own.
func Tail(path string, n int) ([]string, error) {
	f, err := openFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	const window = 64 << 10
	off := max(st.Size()-window, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	text := strings.TrimRight(string(buf), "\n")
	if text == "" {
		return nil, nil
	}
	lines := strings.Split(text, "\n")
	if off > 0 && len(lines) > 1 {
		lines = lines[1:] // the first line was cut by the window
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}
