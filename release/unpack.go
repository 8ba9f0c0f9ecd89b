package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/relspec"
)

const unpackSummary = "verify and unpack release VSN into releases/VSN/ without switching to it; nothing to do when it is unpacked already"

// unpackCommand stages a release: it verifies and unpacks it as upgrade's
// first step does (install.Root.Unpack), and stops there. It needs no
// running system.
type unpackCommand struct {
	tarball string
	json    bool
}

// unpackJSON is what unpack -json prints.
type unpackJSON struct {
	Version string `json:"version"`
	Changed bool   `json:"changed"`
	Path    string `json:"path"`
	// Error is what failed (the message on stderr); omitted on success,
	// and nothing changed then.
	Error string `json:"error,omitempty"`
}

func (c *unpackCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("unpack", "VSN [-tarball PATH] [-json]", unpackSummary+`

The tarball is releases/VSN/NAME-VSN*.tar.gz (copy it there with its .sha256
file), or PATH. It is checked as upgrade checks it: its SHA-256 against the
.sha256 file, its minisign signature (.minisig) when this release trusts
keys, every entry, and the unpacked files against its release.json. It is
then moved into releases/VSN/ and recorded in releases/RELEASES as
unpacked; bin/NAME and the running system are not touched, and nothing
needs to run. A later upgrade VSN or switch VSN switches without unpacking,
and releases/VSN/NAME migrate can run from it.

Run again for the same build it changes nothing and exits 0 (with -json,
"changed": false). A different build of an installed version is refused
(exit 1): a version names one build. When unpack fails nothing changes,
and -json prints the same object with "changed": false and "error".`)
	fs.StringVar(&c.tarball, "tarball", "", "the release tarball to unpack (its checksum in PATH.sha256); default: the one in releases/VSN/")
	fs.BoolVar(&c.json, "json", false, `print {"version":..., "changed":..., "path":...} on stdout, one line; the rest goes to stderr`)
	vsn, err := r.parseVersion(fs, args, "unpack 2.0.0")
	if ue := (*UsageError)(nil); errors.As(err, &ue) && vsn == "" && strings.HasSuffix(ue.Problem, "needs the version to switch to") {
		ue.Problem = "unpack needs the version to unpack"
	}
	if err != nil {
		return err
	}
	if err := relspec.CheckVersion(vsn); err != nil {
		return &UsageError{Problem: err.Error(), Try: r.app.name + " unpack 2.0.0"}
	}
	if !c.json {
		_, err := c.unpack(r, vsn, r.stdout)
		return err
	}
	out, err := c.unpack(r, vsn, r.stderr)
	if err != nil {
		// A script reads stdout on failure too; an unpack that fails
		// changes nothing.
		out = unpackJSON{Version: vsn, Path: out.Path, Error: err.Error()}
	}
	if jerr := json.NewEncoder(r.stdout).Encode(out); jerr != nil && err == nil {
		return jerr
	}
	return err
}

// unpack unpacks release vsn, printing what it did to prose, and returns
// what -json prints (Path is set as soon as the root is known).
func (c *unpackCommand) unpack(r *runner, vsn string, prose io.Writer) (unpackJSON, error) {
	out := unpackJSON{Version: vsn}
	root, p, err := r.openRoot("unpack")
	if err != nil {
		return out, err
	}
	out.Path = releaseDir(root, vsn)
	rs, err := root.Releases()
	if err != nil {
		return out, err
	}
	_, listed := rs.State(vsn)
	res, err := root.Unpack(vsn, install.UnpackOptions{Tarball: c.tarball, TrustedKeys: r.app.trustedKeys})
	var changed bool
	switch {
	case err == nil:
		changed = !res.AlreadyInstalled || !listed
	case errors.Is(err, install.ErrNoTarball) && c.tarball == "" && listed:
		// Installed from a tarball that is gone (a first install with
		// tar -xzf leaves none in releases/VSN/): it is staged if its
		// files are intact.
		if verr := root.Verify(vsn); verr != nil {
			return out, fmt.Errorf("%w\nRelease %s is listed in %s but its files do not match its release.json either: %v", err, vsn, root.StateFilePath(), verr)
		}
		res = &install.UnpackResult{Version: vsn, Dir: releaseDir(root, vsn), AlreadyInstalled: true}
	case errors.Is(err, install.ErrNoTarball) && c.tarball == "":
		return out, fmt.Errorf("%w\nTry: %s unpack %s -tarball PATH", err, r.app.name, vsn)
	default:
		return out, err
	}
	if changed {
		fmt.Fprintf(prose, "Unpacked release %s into %s\n", vsn, res.Dir)
	} else {
		fmt.Fprintf(prose, "Release %s is unpacked already in %s (the same build); nothing to do\n", vsn, res.Dir)
	}
	if len(res.Skipped) > 0 {
		fmt.Fprintf(r.stderr, "Note: the tarball's files at the release root were not installed: %s. unpack installs only releases/%s/; unpack the tarball over the root to update them: tar -xzf %s -C %s\n",
			strings.Join(res.Skipped, ", "), vsn, res.Tarball, p.Root)
	}
	return unpackJSON{Version: vsn, Changed: changed, Path: res.Dir}, nil
}

// releaseDir is ROOT/releases/VSN.
func releaseDir(root *install.Root, vsn string) string {
	return filepath.Join(root.Dir(), "releases", vsn)
}
