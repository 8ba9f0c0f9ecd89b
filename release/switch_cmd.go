package release

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/relkit/relkit/internal/install"
	"golang.org/x/mod/semver"
)

const switchSummary = "be on release VSN: upgrade or downgrade the running system to it, whichever is needed; nothing to do when it runs already"

// switchCommand is "be on VSN" for scripts and configuration management:
// it upgrades or downgrades to VSN through switchRelease, as upgrade and
// downgrade do, and says in its exit code and -json output whether
// anything changed.
type switchCommand struct {
	json, noMigrate, rollback, force bool
}

// switchJSON is what switch -json prints.
type switchJSON struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Changed   bool   `json:"changed"`
	Direction string `json:"direction"` // "upgrade", "downgrade" or "none"
	// MigratedTo is the schema version the upgrade migrated the database
	// to; omitted when no migration ran.
	MigratedTo int `json:"migrated_to,omitempty"`
	// Error is what failed (the message on stderr); omitted on success.
	Error string `json:"error,omitempty"`
}

func (c *switchCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("switch", "VSN [-json] [-no-migrate] [-rollback] [-force]", switchSummary+`

VSN must be unpacked (unpack VSN) or have its tarball in releases/VSN/.
When VSN is newer than the running release, switch does what upgrade VSN
does (migrating first unless -no-migrate); when it is older, what
downgrade VSN does (-rollback and -force as there). Newer means a higher
version number when both versions are numbers (1.10.0 after 1.9.0, a
pre-release before its release), otherwise later in releases/RELEASES
(a release not listed yet is the newest). When VSN runs already and is
permanent there is nothing to do: exit 0, "changed": false. Exit 1 when the
switch fails; the old release keeps serving then, as with upgrade, and
-json prints the same object with "error" (and "changed": true only when
something changed before the failure, such as a migration applied).

After a successful switch, releases beyond RELEASE_KEEP are pruned.`)
	fs.BoolVar(&c.json, "json", false, `print {"from", "to", "changed", "direction", "migrated_to"} on stdout, one line; the rest goes to stderr`)
	fs.BoolVar(&c.noMigrate, "no-migrate", false, "upgrading: switch without applying VSN's pending migrations first (they were applied separately)")
	fs.BoolVar(&c.rollback, "rollback", false, "downgrading, when the database is newer than VSN knows: switch to VSN, then revert the migrations VSN lacks")
	fs.BoolVar(&c.force, "force", false, "switch without checking the database's schema version")
	vsn, err := r.parseVersion(fs, args, "switch 2.0.0")
	if err != nil {
		return err
	}
	stdout := r.stdout
	if c.json {
		// Prose goes to stderr, so stdout holds the JSON object alone.
		r.stdout = r.stderr
		defer func() { r.stdout = stdout }()
	}

	out := switchJSON{To: vsn, Direction: "none"}
	running, root, rs := r.switchState(ctx)
	out.From = running
	var req switchRequest
	switch {
	case running == vsn:
		// switchRelease checks RELEASES and bin/NAME, and repairs them.
		linked, _ := root.Linked()
		out.Changed = rs == nil || rs.Permanent() != vsn || linked != vsn
		req = switchRequest{cmd: "switch", version: vsn}
	case running != "" && rs != nil && newerRelease(rs, running, vsn):
		out.Direction, out.Changed = "downgrade", true
		req = r.downgradeRequest("switch", vsn, c.force, c.rollback)
		req.unpack = true // a tarball waiting in releases/VSN/ will do
	default:
		out.Direction, out.Changed = "upgrade", true
		req = r.upgradeRequest("switch", vsn, "", c.noMigrate)
		req.force = c.force
	}
	err = r.switchRelease(ctx, req)
	if !c.json {
		return err
	}
	if e := req.expanded; e != nil && e.started {
		out.MigratedTo = e.to
		if err != nil {
			// A run that failed midway applied what came before the
			// failing migration all the same.
			out.MigratedTo = 0
			if now, ok := r.databaseVersion(context.WithoutCancel(ctx)); ok && now > e.from {
				out.MigratedTo = now
			}
		}
	}
	if err != nil {
		// A script reads what happened from stdout on failure too: the
		// error, and whether anything changed before it (a migration
		// applied, or the switch committed before a later step failed).
		out.Error = err.Error()
		now, _ := r.runningVersion(context.WithoutCancel(ctx))
		out.Changed = out.MigratedTo > 0 || (now == vsn && running != vsn)
	}
	if jerr := json.NewEncoder(stdout).Encode(out); jerr != nil && err == nil {
		return jerr
	}
	return err
}

// switchState is what switch decides the direction by: the running
// release ("" when none answers: switchRelease then says why) and the
// installed releases (nil when they cannot be read: switchRelease fails
// on that too).
func (r *runner) switchState(ctx context.Context) (running string, root *install.Root, rs *install.Releases) {
	root, _, err := r.openRoot("switch")
	if err != nil {
		return "", nil, nil
	}
	if running, err = r.runningVersion(ctx); err != nil {
		return "", root, nil
	}
	rs, _ = root.Releases()
	return running, root, rs
}

// databaseVersion reads the database's schema version; ok is false
// without a database or when it cannot be read.
func (r *runner) databaseVersion(ctx context.Context) (v int, ok bool) {
	db, err := r.schemaReader()
	if err != nil || db == nil {
		return 0, false
	}
	v, err = db.SchemaVersion(ctx)
	return v, err == nil
}

// newerRelease reports whether release a is newer than release b: by
// their version numbers when both are numbers (see compareVersions), else
// by their order in RELEASES, a release not listed being the newest.
func newerRelease(rs *install.Releases, a, b string) bool {
	if c, ok := compareVersions(a, b); ok && c != 0 {
		return c > 0
	}
	order := func(v string) int {
		i := slices.IndexFunc(rs.Entries(), func(e install.Entry) bool { return e.Version == v })
		if i < 0 {
			return len(rs.Entries())
		}
		return i
	}
	return order(a) > order(b)
}

// compareVersions compares two versions as semantic versioning orders
// them (golang.org/x/mod/semver: MAJOR[.MINOR[.PATCH]][-PRE][+BUILD], a
// pre-release before its release, build metadata ignored). ok is false
// when either is not a semantic version.
func compareVersions(a, b string) (c int, ok bool) {
	va, vb := "v"+a, "v"+b
	if !semver.IsValid(va) || !semver.IsValid(vb) {
		return 0, false
	}
	return semver.Compare(va, vb), true
}
