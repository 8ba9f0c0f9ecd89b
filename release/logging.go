package release

import (
	"io"
	"log/slog"
	"os"

	"github.com/lmittmann/tint"
	"github.com/mattn/go-isatty"
	"github.com/relkit/relkit/internal/logbuf"
	"github.com/relkit/relkit/runtimeconfig"
)

// newLogger builds the release's logger: tint's coloured text on a terminal
// (plain text when NO_COLOR is set), slog's JSON handler otherwise, unless
// LOG_FORMAT asks for one of them.
//
// Off a terminal, lines are written in batches at most 100 ms apart
// (internal/logbuf): an access log line per request would otherwise cost a
// write(2) per request. Warnings and errors are written at once, and Run
// writes what is left before it returns. A generation under the supervisor
// writes every line at once into the supervisor's pipe, which batches on
// its side: the supervisor outlives a crash of the app, so no line is lost.
//
// The level is a slog.LevelVar (r.ops.level) that debug log-level changes
// in the running process. A generation's lines carry its number and its
// release's version, so that the log of an upgrade reads as one story.
func (r *runner) newLogger(w io.Writer, level slog.Level, format runtimeconfig.LogFormat) *slog.Logger {
	r.ops.level.Set(level)
	log := r.buildLogger(w, &r.ops.level, format)
	if g, ok := r.generation(); ok {
		log = log.With("generation", g.Number, "version", r.app.version)
	}
	return log
}

func (r *runner) buildLogger(w io.Writer, level slog.Leveler, format runtimeconfig.LogFormat) *slog.Logger {
	term := isTerminal(w)
	_, noColor := r.env.Lookup("NO_COLOR")
	if term {
		return slog.New(newHandler(w, level, format, term, noColor))
	}
	interval := logbuf.DefaultInterval
	if _, ok := r.generation(); ok {
		// Under the supervisor, w is its pipe: each line goes straight
		// in, and the supervisor batches. A line batched here would die
		// with the process on os.Exit, a fatal error or an OOM kill.
		interval = -1
	}
	bw, ok := w.(*logbuf.Writer)
	if !ok {
		bw = logbuf.New(w, interval, logbuf.DefaultSize)
		r.onExit = append(r.onExit, bw.Close)
	}
	if format == runtimeconfig.LogAuto || format == "" || format == runtimeconfig.LogJSON {
		// slog's JSON handler, which also lets the server encode its
		// access log line itself, byte for byte as slog would.
		return slog.New(logbuf.NewJSONHandler(bw, level, slog.LevelWarn))
	}
	return slog.New(logbuf.NewHandler(newHandler(bw, level, format, term, noColor), bw, slog.LevelWarn))
}

func newHandler(w io.Writer, level slog.Leveler, format runtimeconfig.LogFormat, term, noColor bool) slog.Handler {
	if format == runtimeconfig.LogAuto || format == "" {
		format = runtimeconfig.LogJSON
		if term {
			format = runtimeconfig.LogText
		}
	}
	if format == runtimeconfig.LogJSON {
		return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	}
	return tint.NewTextHandler(w, &tint.Options{
		Level:      level,
		TimeFormat: "15:04:05.000",
		NoColor:    noColor || !term,
	})
}

// isTerminal reports whether w is a terminal. A character device is not
// enough: /dev/null is one, and an output discarded there, or a
// supervisor's, was taken for a terminal's (text, colours, and under the
// supervisor a write per line of the app's output).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	// Not f.Fd(): it would switch a non-blocking file to blocking.
	raw, err := f.SyscallConn()
	if err != nil {
		return false
	}
	term := false
	raw.Control(func(fd uintptr) { term = isatty.IsTerminal(fd) })
	return term
}
