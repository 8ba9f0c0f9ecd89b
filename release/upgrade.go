package release

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/relkit/relkit/internal/install"
)

const upgradeSummary = "switch the running system to release VSN without dropping a connection: unpack, install, make permanent"

// upgradeCommand unpacks release VSN next to the running one and switches
// the running system to it (see switchRelease).
type upgradeCommand struct {
	tarball   string
	noMigrate bool
}

func (c *upgradeCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("upgrade", "VSN [-tarball PATH]", upgradeSummary+`

The tarball is releases/VSN/NAME-VSN*.tar.gz (copy it there with its .sha256
file), or PATH. It is verified and unpacked into releases/VSN/; files at the
tarball's root (overlays) are not installed. The supervisor then starts
releases/VSN/NAME with the listening sockets handed over and, once it is
ready (within UPGRADE_TIMEOUT), records VSN as current and permanent in
releases/RELEASES and bin/NAME itself, whatever happens to this command, then
drains and stops the old release. For UPGRADE_PROBATION after the switch a
crash of VSN switches back to the previous release. Run for the release that
runs already, upgrade checks (and repairs) RELEASES and bin/NAME and exits 0. If the new release exits or is not ready in time, the old
one keeps serving, what was unpacked is removed, releases/RELEASES is left
as it was, and upgrade exits 1 with the new release's last lines of output.
A release installed already (the releases command lists them) is switched to
without unpacking.

Before switching, when VSN has migrations the database (DATABASE_URL) lacks,
upgrade applies them with VSN's binary (releases/VSN/NAME migrate) while the
old release serves, and prints "Migrated database to version N"; the old
release must therefore work with VSN's schema (expand now, contract in a
later release). If the switch then fails, the old release keeps serving on
the newer schema. -no-migrate skips this, for teams that migrate separately.

After a successful switch the releases beyond RELEASE_KEEP (default 5) are
pruned, never the running, permanent or previous one (releases prune -h).`)
	fs.StringVar(&c.tarball, "tarball", "", "the release tarball to install (its checksum in PATH.sha256); default: the one in releases/VSN/")
	fs.BoolVar(&c.noMigrate, "no-migrate", false, "switch without applying VSN's pending migrations first (they were applied separately)")
	vsn, err := r.parseVersion(fs, args, "upgrade 1.1.0")
	if err != nil {
		return err
	}
	return r.switchRelease(ctx, r.upgradeRequest("upgrade", vsn, c.tarball, c.noMigrate))
}

// upgradeRequest is the switch upgrade asks for (switch VSN too, when VSN
// is newer): unpack when needed, migrate first unless noMigrate.
func (r *runner) upgradeRequest(cmd, vsn, tarball string, noMigrate bool) switchRequest {
	req := switchRequest{cmd: cmd, version: vsn, tarball: tarball, unpack: true}
	if !noMigrate {
		req.before = func(ctx context.Context, root *install.Root, _ string) error { return r.expand(ctx, root, vsn) }
	}
	return req
}

// parseVersion parses a command line of one VSN argument and flags, given
// before or after it.
func (r *runner) parseVersion(fs *flag.FlagSet, args []string, example string) (string, error) {
	var vsn string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		vsn, args = args[0], args[1:]
	}
	if err := r.parse(fs, args); err != nil {
		return "", err
	}
	rest := fs.Args()
	if vsn == "" && len(rest) > 0 {
		vsn, rest = rest[0], rest[1:]
	}
	switch {
	case vsn == "":
		return "", &UsageError{Problem: fs.Name() + " needs the version to switch to", Try: r.app.name + " " + example}
	case len(rest) > 0:
		return "", &UsageError{Problem: fmt.Sprintf("%s takes one version, got also %q", fs.Name(), rest[0]), Try: r.app.name + " " + example}
	}
	return vsn, nil
}
