package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/relspec"
)

// switchRequest is what upgrade and downgrade ask of switchRelease.
type switchRequest struct {
	cmd     string // "upgrade" or "downgrade"
	version string
	// tarball is upgrade's -tarball; unpack says whether the release may
	// be unpacked (upgrade) or must be installed already (downgrade).
	tarball string
	unpack  bool
	// force skips the database schema check.
	force bool
	// before runs once the release is unpacked and checked, before the
	// switch, with the running release (upgrade's migrations, see expand.go); a failure undoes the
	// unpack. after runs once the switch is permanent, with the release
	// that ran before (downgrade -rollback's reverts, see contract.go).
	before func(ctx context.Context, root *install.Root, running string) error
	after  func(ctx context.Context, root *install.Root, previous string) error
}

// switchRelease switches the running system to release req.version, as
// Erlang's release_handler does in three steps, each printed:
//
//  1. unpack (upgrade only, when the release is not installed or -tarball
//     is given): the tarball is verified and unpacked into releases/VSN/;
//  2. install: the supervisor starts releases/VSN/NAME as a new generation
//     with the listening sockets handed over and, the moment it is ready
//     within UPGRADE_TIMEOUT, commits the switch itself (RELEASES current
//     and permanent, bin/NAME), then drains and stops the old one;
//  3. make permanent: this command only reports what the supervisor
//     recorded, so a dropped terminal cannot split the state.
//
// Once permanent (and req.after done), releases beyond RELEASE_KEEP are
// pruned (see autoPrune). The root's change lock is held throughout. When
// step 2 fails the old release keeps serving, what step 1 unpacked is
// removed and RELEASES is left byte for byte as it was.
func (r *runner) switchRelease(ctx context.Context, req switchRequest) error {
	p, err := r.settings.Paths()
	if err != nil {
		return err
	}
	if !p.Assembled {
		return fmt.Errorf("%s works on an assembled release (relkit build), whose binaries live in ROOT/releases/VSN/; this binary runs from %s", req.cmd, p.Root)
	}
	if err := relspec.CheckVersion(req.version); err != nil {
		return &UsageError{Problem: err.Error(), Try: fmt.Sprintf("%s releases   (lists the installed versions)", r.app.name)}
	}
	dcfg, err := r.settings.Release()
	if err != nil {
		return err
	}
	root, err := install.Open(p.Root, r.app.name)
	if err != nil {
		return err
	}
	info, err := control.Ping(ctx, p.socket)
	if errors.Is(err, control.ErrNotRunning) {
		return fmt.Errorf("%w; %s switches a running system: start it first (%s start, or %s daemon)", r.notRunning(p), req.cmd, r.app.name, r.app.name)
	}
	if err != nil {
		return err
	}
	switch {
	case info.Mode != control.ModeSupervisor:
		return fmt.Errorf("%s (pid %d) runs without a supervisor, so nothing holds its socket while the release is switched; start it from the assembled release (bin/%s start or daemon)", r.app.name, info.PID, r.app.name)
	case !slices.Contains(info.Ops, control.OpUpgrade):
		return fmt.Errorf("the running %s %s (pid %d) was started by a relkit release that cannot switch releases; stop it and start it with this release once (%s stop; %s start), then %s works", r.app.name, info.Version, info.PID, r.app.name, r.app.name, req.cmd)
	case info.Version == req.version:
		return r.runningAlready(root, req.version)
	}

	unlock, err := root.Lock()
	if err != nil {
		return err
	}
	defer unlock()

	var unpacked *install.UnpackResult
	_, notInstalled := root.Manifest(req.version)
	switch {
	case req.unpack && (notInstalled != nil || req.tarball != ""):
		res, err := root.Unpack(req.version, install.UnpackOptions{Tarball: req.tarball, TrustedKeys: r.app.trustedKeys})
		if err != nil {
			return err
		}
		if !res.AlreadyInstalled {
			unpacked = res
		}
		fmt.Fprintf(r.stdout, "Unpacked release %s\n", req.version)
		if len(res.Skipped) > 0 {
			fmt.Fprintf(r.stderr, "Note: the tarball's files at the release root were not installed: %s. An upgrade installs only releases/%s/ and bin/%s; unpack the tarball over the root to update them: tar -xzf %s -C %s\n",
				strings.Join(res.Skipped, ", "), req.version, r.app.name, res.Tarball, p.Root)
		}
	case notInstalled != nil:
		return notInstalled
	default:
		if err := root.Verify(req.version); err != nil {
			return fmt.Errorf("release %s is installed but damaged, so it is not started: %w", req.version, err)
		}
	}
	// undo takes back a failed switch: what was unpacked goes, RELEASES
	// is restored.
	undo := func(cause error) error {
		if unpacked == nil {
			return cause
		}
		if err := unpacked.Undo(); err != nil {
			return fmt.Errorf("%w\nTaking back the unpacked release failed too: %v", cause, err)
		}
		return fmt.Errorf("%w\nRemoved the unpacked release %s; %s is as before", cause, req.version, root.StateFilePath())
	}

	if !req.force {
		db, err := r.schemaReader()
		if err == nil {
			err = checkSchema(ctx, r.app.name, root, info.Version, req.version, db)
		}
		if err != nil {
			return undo(err)
		}
	}

	if req.before != nil {
		if err := req.before(ctx, root, info.Version); err != nil {
			return undo(err)
		}
	}

	// The new release may take UPGRADE_TIMEOUT to become ready, after the
	// old one handed over its state; the old one then drains.
	cctx, cancel := context.WithTimeout(ctx, dcfg.UpgradeTimeout+dcfg.stopTimeout()+time.Minute)
	defer cancel()
	res, err := control.Call(cctx, p.socket, control.Request{Op: control.OpUpgrade, Args: []string{req.version}, TimeoutMS: dcfg.UpgradeTimeout.Milliseconds()}, control.Output{})
	if err == nil && res.Status != 0 {
		err = &exitError{Code: ExitFailure, Err: fmt.Errorf("%s to %s failed: %s", req.cmd, req.version, res.Error)}
	}
	if err != nil {
		// The answer may have been lost (an interrupted command, a
		// timeout) after the switch happened: ask what runs now.
		actx, acancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		now, perr := control.Ping(actx, p.socket)
		acancel()
		if perr != nil || now.Version != req.version {
			var ee *exitError
			if errors.As(err, &ee) {
				return &exitError{Code: ee.Code, Err: undo(ee.Err)}
			}
			// Say what serves only as far as a ping after the failure told.
			state := fmt.Sprintf("%s is not running now (its control socket does not answer: %v); start it again with %s daemon (or %s start), which boots the permanent release", r.app.name, perr, r.app.name, r.app.name)
			if perr == nil {
				state = fmt.Sprintf("release %s keeps serving (pid %d answered)", now.Version, now.PID)
			}
			return &exitError{Code: ExitFailure, Err: undo(fmt.Errorf("%s to %s: %w; %s", req.cmd, req.version, err, state))}
		}
		res.PID = now.ChildPID
	}
	// The supervisor committed the switch the moment the new release was
	// ready: report what RELEASES and bin/ say now.
	rs, err := root.Releases()
	if err != nil {
		return fmt.Errorf("release %s runs now (app pid %d), but reading %s failed: %w", req.version, res.PID, root.StateFilePath(), err)
	}
	if rs.Current() == req.version || rs.Permanent() == req.version {
		fmt.Fprintf(r.stdout, "Installed release %s\n", req.version)
	}
	linked, _ := root.Linked()
	if rs.Permanent() != req.version || linked != req.version {
		return fmt.Errorf("release %s runs now (app pid %d), but the supervisor did not record it as permanent (RELEASES: permanent %q, bin/%s: %q); run %s %s %s again to repair that",
			req.version, res.PID, rs.Permanent(), r.app.name, linked, r.app.name, req.cmd, req.version)
	}
	fmt.Fprintf(r.stdout, "Made release %s permanent\n", req.version)
	if req.after != nil {
		if err := req.after(ctx, root, info.Version); err != nil {
			return err
		}
	}
	// Old releases beyond RELEASE_KEEP go; the one switched from stays,
	// for probation to switch back to.
	r.autoPrune(root, req.version, info.Version)
	return nil
}

// runningAlready answers a switch to the release that runs: it checks that
// RELEASES and bin/NAME name it (repairing them when they don't, as a
// switch cut short by an old relkit could leave them) and says there is
// nothing to do.
func (r *runner) runningAlready(root *install.Root, vsn string) error {
	rs, err := root.Releases()
	if err != nil {
		return err
	}
	linked, _ := root.Linked()
	if rs.Permanent() != vsn || linked != vsn {
		unlock, err := root.Lock()
		if err != nil {
			return err
		}
		defer unlock()
		if err := root.MakeCurrent(vsn); err != nil {
			return fmt.Errorf("release %s runs, but recording it in %s failed: %w", vsn, root.StateFilePath(), err)
		}
		if err := root.MakePermanent(vsn); err != nil {
			return fmt.Errorf("release %s runs, but making it permanent failed: %w; bin/%s still starts %s", vsn, err, r.app.name, linked)
		}
		fmt.Fprintf(r.stdout, "Repaired %s and bin/%s: they named %q and %q, but %s runs\n", root.StateFilePath(), r.app.name, rs.Permanent(), linked, vsn)
	}
	fmt.Fprintf(r.stdout, "%s is running already; nothing to do\n", vsn)
	return nil
}
