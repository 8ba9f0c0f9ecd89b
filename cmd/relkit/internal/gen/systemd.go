package gen

import (
	"fmt"
	"net"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SystemdOptions configure [Systemd]. The zero value is usable.
type SystemdOptions struct {
	// Root is the directory the release is unpacked into. Default
	// /opt/NAME.
	Root string
	// User and Group run the service. Default: the release name.
	User, Group string
	// EnvironmentFile holds the configuration (secrets included); it is
	// optional, so an app with defaults for everything starts without it.
	// Default /etc/NAME/NAME.env.
	EnvironmentFile string
	// Socket also writes NAME.socket for socket activation: systemd owns
	// the listening socket, passed to the release as the fd named "http".
	// Default false: the release listens on PORT itself.
	Socket bool
	// Listen is the socket unit's ListenStream= (only with Socket).
	// Default: the app's port on every address.
	Listen string
	// StopMargin is added to DRAIN_DELAY + SHUTDOWN_TIMEOUT for
	// TimeoutStopSec=, so systemd never kills a release that is still
	// shutting down in time. Default 10s.
	StopMargin time.Duration
	// DrainDelay, when set, is a DRAIN_DELAY the install instructions
	// write into the environment file (the unit itself sets none, so a
	// release can change it). Default: the app's own [App.DrainDelay].
	DrainDelay time.Duration
}

var (
	unitUserRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
)

// DefaultStopMargin is the default [SystemdOptions.StopMargin].
const DefaultStopMargin = 10 * time.Second

// Systemd returns NAME.service, NAME-migrate.service and, with
// opts.Socket, NAME.socket. NAME-migrate.service is a oneshot running
// `NAME migrate` with the service's user and environment file, so
// `systemctl start NAME-migrate` migrates with exactly the configuration
// the service gets. The service sets no Environment= defaults (the process
// environment would override every release's releases/VSN/env), except
// SERVER=true for an app that does not serve by default. The install
// instructions in its header name every required and secret variable of
// the app. The service is Type=notify (the release sends READY=1 once serving),
// reloads with a hitless `restart`, restarts on failure except after a
// usage or configuration error (exit 64 and 78: restarting cannot fix
// those), and is sandboxed: NoNewPrivileges, ProtectSystem=strict with
// only ROOT/tmp, ROOT/log, ROOT/releases and ROOT/bin writable (the
// supervisor commits each switch to the last two). KillMode=mixed sends SIGTERM to the
// main process only, so a supervised release drains once instead of
// receiving a second, forcing signal.
func Systemd(app App, opts SystemdOptions) ([]File, error) {
	app, err := app.withDefaults()
	if err != nil {
		return nil, err
	}
	var errs []string
	if opts.Root == "" {
		opts.Root = "/opt/" + app.Name
	}
	if !path.IsAbs(opts.Root) || path.Clean(opts.Root) != opts.Root || strings.ContainsAny(opts.Root, " \t\n\"'\\%$;") {
		errs = append(errs, fmt.Sprintf("root %q: want a clean absolute path without spaces, quotes, '%%', '$' or ';'", opts.Root))
	}
	if opts.User == "" {
		opts.User = strings.ToLower(app.Name)
	}
	if opts.Group == "" {
		opts.Group = opts.User
	}
	for _, u := range []string{opts.User, opts.Group} {
		if !unitUserRE.MatchString(u) {
			errs = append(errs, fmt.Sprintf("user or group %q: want a system user name (lower case, digits, '_', '-'; at most 32)", u))
		}
	}
	if opts.EnvironmentFile == "" {
		opts.EnvironmentFile = "/etc/" + app.Name + "/" + app.Name + ".env"
	}
	if !path.IsAbs(opts.EnvironmentFile) || strings.ContainsAny(opts.EnvironmentFile, " \t\n\"'\\%$;") {
		errs = append(errs, fmt.Sprintf("environment file %q: want an absolute path without spaces, quotes, '%%', '$' or ';'", opts.EnvironmentFile))
	}
	if opts.Listen == "" {
		opts.Listen = strconv.Itoa(app.Port)
	} else if err := checkListen(opts.Listen); err != nil {
		errs = append(errs, err.Error())
	}
	if opts.StopMargin == 0 {
		opts.StopMargin = DefaultStopMargin
	}
	if opts.DrainDelay < 0 {
		errs = append(errs, "drain delay must not be negative")
	}
	setDrain := opts.DrainDelay != 0 && opts.DrainDelay != app.DrainDelay
	if opts.DrainDelay != 0 {
		app.DrainDelay = opts.DrainDelay
	}
	if len(errs) > 0 {
		return nil, invalid(errs)
	}
	data := map[string]any{
		"App": app, "Opts": opts, "SetDrainDelay": setDrain,
		"ShutdownTimeout": duration(app.ShutdownTimeout), "DrainDelay": duration(app.DrainDelay),
		"StopTimeout": app.DrainDelay + app.ShutdownTimeout + opts.StopMargin,
		"Privileged":  app.Port < 1024 && !opts.Socket,
	}
	service, err := render("service.tmpl", data)
	if err != nil {
		return nil, err
	}
	migrate, err := render("migrate.tmpl", data)
	if err != nil {
		return nil, err
	}
	files := []File{{Name: app.Name + "-migrate.service", Data: migrate}, {Name: app.Name + ".service", Data: service}}
	if opts.Socket {
		socket, err := render("socket.tmpl", data)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: app.Name + ".socket", Data: socket})
	}
	return files, nil
}

// checkListen accepts what ListenStream= takes for TCP: PORT, IP:PORT or
// [IPv6]:PORT.
func checkListen(s string) error {
	port := s
	if strings.Contains(s, ":") {
		host, p, err := net.SplitHostPort(s)
		if err != nil || net.ParseIP(host) == nil {
			return fmt.Errorf("listen address %q: want PORT, IP:PORT or [IPv6]:PORT", s)
		}
		port = p
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("listen address %q: port must be 1-65535", s)
	}
	return nil
}
