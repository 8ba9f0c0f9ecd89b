package release

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/control"
)

// maxLogLevelFor bounds debug log-level -for.
const maxLogLevelFor = 24 * time.Hour

// debugLogLevel changes the running app's log level without a restart,
// for -for or until the app restarts (its LOG_LEVEL applies again).
func debugLogLevel(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("debug log-level", "LEVEL [-for DURATION]", "change the running app's log level (debug, info, warn, error) until -for has passed or the app restarts; LEVEL reset goes back to LOG_LEVEL")
	dur := fs.Duration("for", 0, "go back to LOG_LEVEL after this long (e.g. 10m; at most 24h); 0: until the app restarts")
	var level string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		level, args = args[0], args[1:]
	}
	if err := r.parse(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if level == "" && len(rest) > 0 {
		level, rest = rest[0], rest[1:]
	}
	try := r.app.name + " debug log-level debug -for 10m"
	switch {
	case level == "":
		return &UsageError{Problem: "debug log-level needs the level: debug, info, warn, error or reset", Try: try}
	case len(rest) > 0:
		return &UsageError{Problem: fmt.Sprintf("debug log-level: unexpected arguments %q", rest), Try: try}
	case *dur < 0 || *dur > maxLogLevelFor:
		return &UsageError{Problem: fmt.Sprintf("debug log-level: -for %v is not between 0 and 24h", *dur), Try: try}
	}
	if level != "reset" {
		if _, err := parseLogLevel(level); err != nil {
			return &UsageError{Problem: "debug log-level: " + err.Error(), Try: try}
		}
	}
	return r.callDebug(ctx, r.stdout, "log-level", level, dur.String())
}

func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not a log level (debug, info, warn, error)", s)
	}
	return l, nil
}

// serveDebugLogLevel sets the level of the app's logger. An earlier
// override's revert is cancelled; the level it reverts to is always the
// one the app booted with.
func serveDebugLogLevel(_ context.Context, r *runner, args []string, w io.Writer) control.Result {
	if len(args) != 2 {
		return control.Fail(ExitUsage, "debug log-level: want LEVEL and DURATION")
	}
	d, err := time.ParseDuration(args[1])
	if err != nil || d < 0 || d > maxLogLevelFor {
		return control.Fail(ExitUsage, "debug log-level: bad duration %q", args[1])
	}
	o := &r.ops
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.revert != nil {
		o.revert.Stop()
		o.revert = nil
	}
	old := o.level.Level()
	if o.baseLevel == nil {
		o.baseLevel = &old
	}
	base := *o.baseLevel
	if args[0] == "reset" {
		o.overrides++
		o.level.Set(base)
		o.baseLevel = nil
		fmt.Fprintf(w, "log level: %s (LOG_LEVEL), was %s\n", base, old)
		return control.Result{}
	}
	level, err := parseLogLevel(args[0])
	if err != nil {
		return control.Fail(ExitUsage, "debug log-level: %v", err)
	}
	o.overrides++
	o.level.Set(level)
	if o.log != nil {
		o.log.Warn("log level changed by debug log-level", "level", level.String(), "was", old.String(), "for", d.String())
	}
	if d == 0 {
		fmt.Fprintf(w, "log level: %s until the app restarts, was %s\n", level, old)
		return control.Result{}
	}
	o.overrides++
	n := o.overrides
	o.revert = time.AfterFunc(d, func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.overrides != n || o.baseLevel == nil {
			return // a later debug log-level replaced this one
		}
		o.level.Set(*o.baseLevel)
		o.baseLevel = nil
		o.revert = nil
		if o.log != nil {
			o.log.Warn("log level set back by debug log-level -for", "level", o.level.Level().String(), "after", d.String())
		}
	})
	fmt.Fprintf(w, "log level: %s for %v, then %s (LOG_LEVEL); was %s\n", level, d, base, old)
	return control.Result{}
}
