package server

import (
	"io"
	"log/slog"

	"github.com/relkit/relkit/internal/logbuf"
)

// releaseLogger is the logger the release gives the server off a terminal
// (release/logging.go): slog's JSON handler behind internal/logbuf, with
// the app's name.
func releaseLogger(w io.Writer, level slog.Level) *slog.Logger {
	bw := logbuf.New(w, 0, 0)
	return slog.New(logbuf.NewJSONHandler(bw, level, slog.LevelWarn)).With("app", "hello")
}
