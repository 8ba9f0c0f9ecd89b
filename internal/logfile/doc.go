// Package logfile is the log file of a daemonised release: one file,
// log/NAME.log, rotated by size into NAME.log.1 … NAME.log.N, the newest
// backup being .1, the way logrotate and Erlang's log_mf_h name them.
//
// A [Writer] is an io.Writer for a single writing process: relkit's
// supervisor owns the file, and the release it runs writes to the supervisor
// through pipes, never to the file directly. A write that would take the file
// past [Options].MaxSize first rotates it, so whole log lines never straddle
// two files and no file grows past the limit (unless a single write is
// larger than the limit on its own: it then fills a file by itself).
//
//	w, err := logfile.Open("log/hello.log", logfile.Options{MaxSize: 10 << 20, Keep: 5})
//	if err != nil {
//		return err
//	}
//	defer w.Close()
//	logger := slog.New(slog.NewTextHandler(w, nil))
//
// The file is opened with O_NOFOLLOW and checked to be a regular file of
// the release's own (see [ErrNotRegular]), at Open and at every rotation,
// so a link planted in the log directory never makes the release write, or
// [Tail] print, another file.
//
// [Tail] reads the last lines of a log file, which is what `daemon` prints
// when a release fails to boot.
//
// # Why not lumberjack
//
// gopkg.in/natefinch/lumberjack.v2 is the usual choice and was considered.
// It counts the size limit in whole megabytes (a 256 KiB limit, or a test
// of the limit that writes less than a megabyte, cannot be expressed), names
// backups by timestamp, which makes "keep N" and "read the previous file"
// depend on clock and sorting, and starts a background goroutine per logger
// for pruning and compression. Numbered backups, a byte limit and rotation in
// the writing goroutine are a hundred lines with the standard library.
package logfile
