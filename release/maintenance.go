package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/server"
)

const maintenanceSummary = "close the app for maintenance (503 on every route but health): maintenance on [-message TEXT] [-retry-after SECONDS] | off | (status)"

// maintenanceFile is the state file in the release root; it outlives
// restarts, upgrades and reboots until maintenance is turned off.
const maintenanceFile = "maintenance.json"

// maintenanceCommand turns maintenance mode on or off, or reports it.
type maintenanceCommand struct{}

func (c *maintenanceCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("maintenance", "[on [-message TEXT] [-retry-after SECONDS] | off]", maintenanceSummary)
	msg := fs.String("message", "", "the message shown to clients (escaped)")
	retry := fs.Int("retry-after", 60, "the Retry-After header, in seconds")
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	if err := r.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &UsageError{Problem: fmt.Sprintf("maintenance: unexpected argument %q", fs.Arg(0)), Try: r.app.name + " maintenance on -message 'back at 14:00'"}
	}
	p, err := r.settings.Paths()
	if err != nil {
		return err
	}
	path := filepath.Join(p.Root, maintenanceFile)
	switch sub {
	case "":
		st, err := readMaintenance(path)
		if err != nil {
			return err
		}
		if st == nil {
			fmt.Fprintf(r.stdout, "maintenance: off (no %s)\n", path)
			return nil
		}
		fmt.Fprintf(r.stdout, "maintenance: on (retry after %ds), message %s, state in %s\n", st.RetryAfter, strconv.Quote(st.Message), path)
		return nil
	case "on":
		if *retry <= 0 {
			return &UsageError{Problem: fmt.Sprintf("maintenance: -retry-after %d is not a positive number of seconds", *retry), Try: r.app.name + " maintenance on -retry-after 60"}
		}
		b, _ := json.Marshal(server.MaintenanceState{Message: *msg, RetryAfter: *retry})
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("maintenance: write the state file: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("maintenance: write the state file: %w", err)
		}
	case "off":
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("maintenance: remove the state file: %w", err)
		}
	default:
		return &UsageError{Problem: fmt.Sprintf("maintenance: unknown subcommand %q (on, off, or none for the status)", sub), Try: r.app.name + " maintenance on"}
	}
	_, err = control.Call(ctx, p.socket, control.Request{Op: control.OpMaintenance}, control.Output{})
	switch {
	case errors.Is(err, control.ErrNotRunning):
		fmt.Fprintf(r.stdout, "maintenance %s: recorded in %s; %s is not running, it takes effect when it starts\n", sub, path, r.app.name)
		return nil
	case err != nil:
		return fmt.Errorf("maintenance %s: recorded in %s, but the running system did not reload it: %w", sub, path, err)
	}
	fmt.Fprintf(r.stdout, "maintenance %s: the running %s now answers accordingly (state in %s)\n", sub, r.app.name, path)
	return nil
}

// readMaintenance reads the state file; nil, nil when there is none.
func readMaintenance(path string) (*server.MaintenanceState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("maintenance: read the state file: %w", err)
	}
	var st server.MaintenanceState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("maintenance: %s is not valid JSON (%v); turn maintenance off and on again", path, err)
	}
	return &st, nil
}

// reloadMaintenance sets the app's maintenance mode from the state file,
// at boot and when the control socket asks. A file it cannot read turns
// maintenance on, since an operator meant it on.
func (r *runner) reloadMaintenance(log *slog.Logger) error {
	p, err := r.settings.Paths()
	if err != nil {
		return err
	}
	st, err := readMaintenance(filepath.Join(p.Root, maintenanceFile))
	if err != nil {
		log.Error("maintenance state unreadable; serving maintenance", "err", err)
		st = &server.MaintenanceState{}
	}
	r.maint.Set(st)
	if st != nil {
		log.Info("maintenance mode on", "retry_after", st.RetryAfter)
	} else {
		log.Info("maintenance mode off")
	}
	return nil
}
