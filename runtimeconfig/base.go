package runtimeconfig

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Base holds the variables every release reads. Embed it in the
// application's configuration struct. Each field's tag states its default.
type Base struct {
	// Port is the TCP port the HTTP server listens on. 0 picks a free port.
	Port int `env:"PORT" envDefault:"4000" desc:"TCP port the HTTP server listens on"`

	// Server turns the HTTP server on or off at start. Nil (unset) means
	// the application's code default (release.App.Server), like Phoenix's
	// `server: true`.
	Server *bool `env:"SERVER" desc:"run the HTTP server at start (true/false); unset: the app's default"`

	// DatabaseURL locates the database, e.g.
	// postgres://user:pass@host/db. Its password is never shown.
	DatabaseURL string `env:"DATABASE_URL" secret:"url" desc:"database URL; its password is never shown"`

	// SecretKeyBase signs and encrypts what the application hands to
	// clients. When set it must be at least 64 characters; generate one
	// with `gen-secret`.
	SecretKeyBase string `env:"SECRET_KEY_BASE" secret:"true" desc:"secret for signing; at least 64 characters (gen-secret makes one)"`

	// LogLevel is the minimum level logged: debug, info, warn or error.
	LogLevel LogLevel `env:"LOG_LEVEL" envDefault:"info" desc:"debug, info, warn or error"`

	// LogFormat is auto, text or json. Auto writes coloured text on a
	// terminal (honouring NO_COLOR) and JSON otherwise.
	LogFormat LogFormat `env:"LOG_FORMAT" envDefault:"auto" desc:"auto, text or json (auto: colour text on a terminal, JSON otherwise)"`

	// ShutdownTimeout bounds the graceful shutdown after SIGTERM.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"30s" desc:"how long a graceful shutdown may take"`

	// DrainDelay is how long the HTTP server keeps serving after SIGTERM
	// while /readyz already answers 503, so that load balancers stop
	// sending traffic before the listener closes. It counts against
	// SHUTDOWN_TIMEOUT.
	DrainDelay time.Duration `env:"DRAIN_DELAY" envDefault:"0s" desc:"how long to keep serving after SIGTERM while /readyz says 503 (part of SHUTDOWN_TIMEOUT)"`
}

// MinSecretKeyBase is the shortest SECRET_KEY_BASE accepted.
const MinSecretKeyBase = 64

func (b *Base) validate() []Problem {
	var ps []Problem
	if b.Port < 0 || b.Port > 65535 {
		ps = append(ps, Problem{Var: "PORT", Message: fmt.Sprintf("want a port from 0 to 65535, got %d", b.Port)})
	}
	if b.SecretKeyBase != "" && len(b.SecretKeyBase) < MinSecretKeyBase {
		ps = append(ps, Problem{Var: "SECRET_KEY_BASE", Message: fmt.Sprintf(
			"want at least %d characters, got %d; generate one with the gen-secret command", MinSecretKeyBase, len(b.SecretKeyBase))})
	}
	if b.ShutdownTimeout <= 0 {
		ps = append(ps, Problem{Var: "SHUTDOWN_TIMEOUT", Message: "want a positive duration such as 30s"})
	}
	if b.DrainDelay < 0 {
		ps = append(ps, Problem{Var: "DRAIN_DELAY", Message: "want a duration of 0s or more, such as 5s"})
	} else if b.ShutdownTimeout > 0 && b.DrainDelay >= b.ShutdownTimeout {
		ps = append(ps, Problem{Var: "DRAIN_DELAY", Message: fmt.Sprintf(
			"want less than SHUTDOWN_TIMEOUT (%s), got %s: the delay is part of the shutdown and would leave no time for in-flight requests", b.ShutdownTimeout, b.DrainDelay)})
	}
	return ps
}

// ServerEnabled reports whether the HTTP server runs: SERVER when set,
// else codeDefault.
func (b *Base) ServerEnabled(codeDefault bool) bool {
	if b.Server != nil {
		return *b.Server
	}
	return codeDefault
}

// LogLevel is a log level read from the environment: debug, info, warn or
// error. Its zero value is info.
type LogLevel slog.Level

// UnmarshalText parses a level name, case-insensitively.
func (l *LogLevel) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "debug":
		*l = LogLevel(slog.LevelDebug)
	case "info":
		*l = LogLevel(slog.LevelInfo)
	case "warn", "warning":
		*l = LogLevel(slog.LevelWarn)
	case "error":
		*l = LogLevel(slog.LevelError)
	default:
		return fmt.Errorf("want one of debug, info, warn, error")
	}
	return nil
}

// Level returns the slog level.
func (l LogLevel) Level() slog.Level { return slog.Level(l) }

// String returns the level's name in lower case.
func (l LogLevel) String() string { return strings.ToLower(slog.Level(l).String()) }

// LogFormat selects the log output format. Its zero value is auto.
type LogFormat string

// Log formats.
const (
	LogAuto LogFormat = "auto"
	LogText LogFormat = "text"
	LogJSON LogFormat = "json"
)

// UnmarshalText parses auto, text or json, case-insensitively.
func (f *LogFormat) UnmarshalText(b []byte) error {
	switch v := LogFormat(strings.ToLower(string(b))); v {
	case LogAuto, LogText, LogJSON:
		*f = v
		return nil
	case "":
		*f = LogAuto
		return nil
	}
	return fmt.Errorf("want one of auto, text, json")
}

// BaseConfig returns b. Through embedding, every configuration struct that
// embeds Base has this method, which is how the release package finds the
// variables it needs in an application's own configuration type.
func (b *Base) BaseConfig() *Base { return b }
