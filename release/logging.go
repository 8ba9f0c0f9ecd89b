package release

import (
	"io"
	"log/slog"

	"github.com/lmittmann/tint"
	"github.com/relkit/relkit/runtimeconfig"
)

// newLogger builds the release's logger: tint's coloured text on a terminal
// (plain text when NO_COLOR is set), slog's JSON handler otherwise, unless
// LOG_FORMAT asks for one of them.
func newLogger(w io.Writer, level slog.Level, format runtimeconfig.LogFormat, env map[string]string) *slog.Logger {
	term := isTerminal(w)
	if format == runtimeconfig.LogAuto || format == "" {
		format = runtimeconfig.LogJSON
		if term {
			format = runtimeconfig.LogText
		}
	}
	if format == runtimeconfig.LogJSON {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	}
	_, noColor := env["NO_COLOR"]
	return slog.New(tint.NewTextHandler(w, &tint.Options{
		Level:      level,
		TimeFormat: "15:04:05.000",
		NoColor:    noColor || !term,
	}))
}
