package gotool

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/manifest"
)

// BinaryInfo is what a Go binary records about its own build.
type BinaryInfo struct {
	// GoVersion is the toolchain that built it, e.g. "go1.24.2".
	GoVersion string
	// GOOS and GOARCH are its target.
	GOOS, GOARCH string
	// CGO reports CGO_ENABLED=1.
	CGO bool
	// VCS is the stamped source revision; nil when the build did not stamp
	// one (no VCS, or -buildvcs=false).
	VCS *manifest.VCS
}

// ReadBinaryInfo reads the build information of the Go binary at path.
// It works for binaries of any target, not only the host's.
func ReadBinaryInfo(path string) (*BinaryInfo, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read build information of %s: %w", path, err)
	}
	info := &BinaryInfo{GoVersion: bi.GoVersion}
	var vcs manifest.VCS
	for _, s := range bi.Settings {
		switch s.Key {
		case "GOOS":
			info.GOOS = s.Value
		case "GOARCH":
			info.GOARCH = s.Value
		case "CGO_ENABLED":
			info.CGO = s.Value == "1"
		case "vcs":
			vcs.System = s.Value
		case "vcs.revision":
			vcs.Revision = s.Value
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339Nano, s.Value); err == nil {
				vcs.Time = t.UTC()
			}
		case "vcs.modified":
			vcs.Modified = s.Value == "true"
		}
	}
	if vcs.Revision != "" {
		info.VCS = &vcs
	}
	return info, nil
}

// GitVCS asks git about the checkout containing dir, for builds that did
// not stamp VCS information (GOFLAGS=-buildvcs=false). Like the go command
// it counts untracked files as modifications. It returns nil when dir is
// not in a git checkout or git is unavailable: the revision is optional.
func (t *Toolchain) GitVCS(ctx context.Context, dir string) *manifest.VCS {
	git, err := lookPath("git", t.Env["PATH"])
	if err != nil {
		return nil
	}
	run := func(args ...string) (string, bool) {
		cmd := exec.CommandContext(ctx, git, append([]string{"-C", dir}, args...)...)
		cmd.Env = environ(t.Env, map[string]string{"GIT_OPTIONAL_LOCKS": "0"})
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err == nil
	}
	rev, ok := run("rev-parse", "HEAD")
	if !ok || rev == "" {
		return nil
	}
	v := &manifest.VCS{System: "git", Revision: rev}
	if ct, ok := run("log", "-1", "--format=%ct", "HEAD"); ok {
		if sec, err := strconv.ParseInt(ct, 10, 64); err == nil {
			v.Time = time.Unix(sec, 0).UTC()
		}
	}
	if st, ok := run("status", "--porcelain"); ok {
		v.Modified = st != ""
	}
	return v
}
