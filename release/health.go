package release

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/relkit/relkit/server"
)

const healthSummary = "probe the running release's /healthz on PORT; exit 0 when healthy, 1 when not (for Docker's HEALTHCHECK)"

// The health command asks the release running on this machine whether it is alive (or,
// with -ready, ready) and turns the answer into the exit code, so that a
// container image needs no curl:
//
//	HEALTHCHECK CMD ["/app/bin/hello", "health"]
//
// healthCommand probes the running release's health endpoints.
type healthCommand struct {
	ready   bool
	timeout time.Duration
}

func (c *healthCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("health", "[-ready] [-timeout DURATION]", healthSummary)
	fs.BoolVar(&c.ready, "ready", false, "probe the readiness endpoint (/readyz) instead of liveness (/healthz)")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "give up after this long")
	if err := r.noArgs(fs, args, "health -h"); err != nil {
		return err
	}
	if c.timeout <= 0 {
		return &UsageError{Problem: fmt.Sprintf("-timeout must be positive, got %s", c.timeout), Try: r.app.name + " health -timeout 5s"}
	}
	base, err := r.settings.Base()
	if err != nil {
		return err
	}
	if base.Port == 0 {
		return fmt.Errorf("PORT=0 makes the server pick a free port, so health cannot find it; set PORT to the port the release listens on")
	}
	o := r.app.serverOptions
	path := o.HealthPath
	if path == "" {
		path = server.DefaultHealthPath
	}
	if c.ready {
		path = o.ReadyPath
		if path == "" {
			path = server.DefaultReadyPath
		}
	}
	url := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(base.Port)) + path

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	status, body, err := probe(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(base.Port)), path)
	if err != nil {
		return fmt.Errorf("health: GET %s: %w (is the release running with PORT=%d?)", url, err, base.Port)
	}
	if !strings.HasPrefix(status, "200 ") {
		return fmt.Errorf("health: GET %s: %s: %s", url, status, trimLine(body))
	}
	fmt.Fprintf(r.stdout, "%s: %s\n", url, trimLine(body))
	return nil
}

// probe sends one HTTP/1.0 GET and returns the status ("200 OK") and up to
// 512 bytes of the body. It speaks just enough HTTP for a health check, so
// that every release does not link net/http's client (0.44 MB of a
// stripped binary, measured on examples/hello).
func probe(ctx context.Context, addr, path string) (status string, body []byte, err error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: relkit-health\r\n\r\n", path, addr); err != nil {
		return "", nil, err
	}
	resp, err := io.ReadAll(io.LimitReader(conn, 16<<10))
	if err != nil {
		return "", nil, err
	}
	head, rest, ok := bytes.Cut(resp, []byte("\r\n\r\n"))
	line, _, _ := bytes.Cut(head, []byte("\r\n"))
	proto, st, _ := strings.Cut(string(line), " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/1.") || len(st) < 3 {
		return "", nil, fmt.Errorf("not an HTTP response: %q", trimLine(line))
	}
	return st, rest[:min(len(rest), 512)], nil
}

func trimLine(b []byte) string {
	s := string(b)
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
