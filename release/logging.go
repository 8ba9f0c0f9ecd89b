package release

import (
	"io"
	"log/slog"

	"github.com/lmittmann/tint"
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
// writes what is left before it returns.
func (r *runner[C]) newLogger(w io.Writer, level slog.Level, format runtimeconfig.LogFormat) *slog.Logger {
	term := isTerminal(w)
	if term {
		return slog.New(newHandler(w, level, format, term, r.env))
	}
	bw := logbuf.New(w, logbuf.DefaultInterval, logbuf.DefaultSize)
	r.onExit = append(r.onExit, bw.Close)
	return slog.New(logbuf.NewHandler(newHandler(bw, level, format, term, r.env), bw, slog.LevelWarn))
}

func newHandler(w io.Writer, level slog.Level, format runtimeconfig.LogFormat, term bool, env map[string]string) slog.Handler {
	if format == runtimeconfig.LogAuto || format == "" {
		format = runtimeconfig.LogJSON
		if term {
			format = runtimeconfig.LogText
		}
	}
	if format == runtimeconfig.LogJSON {
		return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	}
	_, noColor := env["NO_COLOR"]
	return tint.NewTextHandler(w, &tint.Options{
		Level:      level,
		TimeFormat: "15:04:05.000",
		NoColor:    noColor || !term,
	})
}
