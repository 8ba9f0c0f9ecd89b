package install_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relkit/relkit/internal/install"
)

// pruneRoot makes a root whose RELEASES holds lines ("VSN STATE"), each
// release a directory with a file in it, and bin/app pointing to linked.
func pruneRoot(t *testing.T, linked string, lines ...string) *install.Root {
	t.Helper()
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	for _, l := range lines {
		vsn, _, _ := strings.Cut(l, " ")
		rel := filepath.Join(dir, "releases", vsn)
		must(t, os.MkdirAll(rel, 0o755))
		must(t, os.WriteFile(filepath.Join(rel, "app"), []byte("#!/bin/sh\n"), 0o755))
		must(t, os.WriteFile(filepath.Join(rel, "app-"+vsn+".tar.gz"), []byte("tarball"), 0o644))
	}
	must(t, os.WriteFile(filepath.Join(dir, "releases", "RELEASES"), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	if linked != "" {
		must(t, os.Symlink("../releases/"+linked+"/app", filepath.Join(dir, "bin", "app")))
	}
	root, err := install.Open(dir, "app")
	must(t, err)
	return root
}

func releaseDirs(t *testing.T, root *install.Root) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(root.Dir(), "releases"))
	must(t, err)
	var out []string
	for _, e := range es {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestPrune(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		linked  string
		lines   []string
		keep    int
		protect []string
		removed []string
		kept    []string
	}{
		{
			name:   "keeps the newest N and the previous release",
			linked: "7.0.0",
			lines:  []string{"1.0.0 old", "2.0.0 old", "3.0.0 old", "4.0.0 old", "5.0.0 old", "6.0.0 old", "7.0.0 permanent"},
			keep:   2, removed: []string{"1.0.0", "2.0.0", "3.0.0", "4.0.0", "5.0.0"}, kept: []string{"6.0.0", "7.0.0"},
		},
		{
			name:   "an old permanent and its previous stay beyond N",
			linked: "2.0.0",
			lines:  []string{"1.0.0 old", "2.0.0 permanent", "3.0.0 old", "4.0.0 old", "5.0.0 unpacked"},
			keep:   2, removed: []string{"3.0.0"}, kept: []string{"1.0.0", "2.0.0", "4.0.0", "5.0.0"},
		},
		{
			name:   "the current release stays",
			linked: "3.0.0",
			lines:  []string{"1.0.0 current", "2.0.0 old", "3.0.0 permanent", "4.0.0 old", "5.0.0 old"},
			keep:   1, removed: []string{"4.0.0"}, kept: []string{"1.0.0", "2.0.0", "3.0.0", "5.0.0"},
		},
		{
			name:   "what bin/NAME points to stays",
			linked: "1.0.0",
			lines:  []string{"1.0.0 old", "2.0.0 old", "3.0.0 old", "4.0.0 permanent"},
			keep:   1, removed: []string{"2.0.0"}, kept: []string{"1.0.0", "3.0.0", "4.0.0"},
		},
		{
			name:   "protected versions stay",
			linked: "4.0.0",
			lines:  []string{"1.0.0 old", "2.0.0 old", "3.0.0 old", "4.0.0 permanent"},
			keep:   1, protect: []string{"1.0.0"}, removed: []string{"2.0.0"}, kept: []string{"1.0.0", "3.0.0", "4.0.0"},
		},
		{
			name:   "keep 0 keeps only the protected ones",
			linked: "3.0.0",
			lines:  []string{"1.0.0 old", "2.0.0 old", "3.0.0 permanent", "4.0.0 unpacked"},
			keep:   0, removed: []string{"1.0.0", "4.0.0"}, kept: []string{"2.0.0", "3.0.0"},
		},
		{
			name:   "nothing beyond N",
			linked: "2.0.0",
			lines:  []string{"1.0.0 old", "2.0.0 permanent"},
			keep:   5, kept: []string{"1.0.0", "2.0.0"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := pruneRoot(t, tc.linked, tc.lines...)
			// A tarball waiting to be unpacked is not a release yet.
			waiting := filepath.Join(root.Dir(), "releases", "9.0.0")
			must(t, os.MkdirAll(waiting, 0o755))
			must(t, os.WriteFile(filepath.Join(waiting, "app-9.0.0.tar.gz"), []byte("x"), 0o644))

			res, err := root.Prune(install.PruneOptions{Keep: tc.keep, Protect: tc.protect})
			must(t, err)
			if !slices.Equal(tc.removed, res.Removed) {
				t.Errorf("removed: want %q, got %q", tc.removed, res.Removed)
			}
			if !slices.Equal(tc.kept, res.Kept) {
				t.Errorf("kept: want %q, got %q", tc.kept, res.Kept)
			}
			var wantLines []string
			for _, l := range tc.lines {
				if vsn, _, _ := strings.Cut(l, " "); slices.Contains(tc.kept, vsn) {
					wantLines = append(wantLines, l)
				}
			}
			if got := stateLines(t, root); !slices.Equal(wantLines, got) {
				t.Errorf("RELEASES: want %q, got %q", wantLines, got)
			}
			if want, got := append(slices.Clone(tc.kept), "9.0.0"), releaseDirs(t, root); !slices.Equal(want, got) {
				t.Errorf("directories under releases/: want %q, got %q", want, got)
			}

			again, err := root.Prune(install.PruneOptions{Keep: tc.keep, Protect: tc.protect})
			must(t, err)
			if len(again.Removed) != 0 || !slices.Equal(tc.kept, again.Kept) {
				t.Errorf("a second prune: want nothing removed and %q kept, got removed %q, kept %q", tc.kept, again.Removed, again.Kept)
			}
		})
	}
}

// TestPruneBoundsGrowth: releases installed one after the other, each
// made permanent and pruned as a switch does, never leave more than keep
// plus the previous one on disk.
func TestPruneBoundsGrowth(t *testing.T) {
	t.Parallel()
	root := pruneRoot(t, "1.0.0", "1.0.0 permanent")
	const keep = 3
	for i := 2; i <= 30; i++ {
		vsn := fmt.Sprintf("%d.0.0", i)
		rel := filepath.Join(root.Dir(), "releases", vsn)
		must(t, os.MkdirAll(rel, 0o755))
		rs, err := root.Releases()
		must(t, err)
		must(t, rs.MarkUnpacked(vsn))
		must(t, rs.MakePermanent(vsn))
		must(t, install.WriteReleases(root.StateFilePath(), rs))
		link := filepath.Join(root.Dir(), "bin", "app")
		must(t, os.Remove(link))
		must(t, os.Symlink("../releases/"+vsn+"/app", link))
		if _, err := root.Prune(install.PruneOptions{Keep: keep}); err != nil {
			t.Fatalf("prune after %s: %v", vsn, err)
		}
		if n := len(stateLines(t, root)); n > keep {
			t.Fatalf("after installing %s: %d releases listed, want at most %d: %q", vsn, n, keep, stateLines(t, root))
		}
		if n := len(releaseDirs(t, root)); n > keep {
			t.Fatalf("after installing %s: %d directories under releases/, want at most %d: %q", vsn, n, keep, releaseDirs(t, root))
		}
	}
	if want, got := []string{"28.0.0 old", "29.0.0 old", "30.0.0 permanent"}, stateLines(t, root); !slices.Equal(want, got) {
		t.Errorf("RELEASES after 30 releases with keep %d: want %q, got %q", keep, want, got)
	}
}

func TestPruneNegativeKeep(t *testing.T) {
	t.Parallel()
	root := pruneRoot(t, "1.0.0", "1.0.0 permanent")
	if _, err := root.Prune(install.PruneOptions{Keep: -1}); err == nil {
		t.Error("prune -keep -1: want an error, got none")
	}
}

func TestPrevious(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text, want string
	}{
		{"1.0.0 old\n2.0.0 permanent\n", "1.0.0"},
		{"1.0.0 old\n2.0.0 old\n3.0.0 permanent\n4.0.0 unpacked\n", "2.0.0"},
		{"1.0.0 permanent\n2.0.0 old\n", ""},
		{"1.0.0 unpacked\n", ""},
	} {
		rs, err := install.ParseReleases([]byte(tc.text))
		must(t, err)
		if got := rs.Previous(); got != tc.want {
			t.Errorf("Previous of %q: want %q, got %q", tc.text, tc.want, got)
		}
	}
}

// TestPruneRemovesLeftovers: what a prune killed after writing RELEASES
// left (a hidden .prune-* directory holding a release) goes at the next
// prune.
func TestPruneRemovesLeftovers(t *testing.T) {
	t.Parallel()
	root := pruneRoot(t, "2.0.0", "1.0.0 old", "2.0.0 permanent")
	left := filepath.Join(root.Dir(), "releases", ".prune-0.9.0-123", "0.9.0")
	must(t, os.MkdirAll(left, 0o755))
	must(t, os.WriteFile(filepath.Join(left, "app"), []byte("x"), 0o755))
	res, err := root.Prune(install.PruneOptions{Keep: 5})
	must(t, err)
	if len(res.Removed) != 0 {
		t.Errorf("removed: want none, got %q", res.Removed)
	}
	if _, err := os.Stat(filepath.Dir(left)); !os.IsNotExist(err) {
		t.Errorf("the leftover of an interrupted prune: want it removed, got %v", err)
	}
	if want, got := []string{"1.0.0", "2.0.0"}, releaseDirs(t, root); !slices.Equal(want, got) {
		t.Errorf("directories under releases/: want %q, got %q", want, got)
	}
}

// TestPruneRestoresWhatAKilledPruneHid: a prune killed after moving a
// release out of the way but before writing RELEASES leaves that release
// listed and hidden in .prune-*; the next prune puts it back instead of
// deleting a release RELEASES still lists.
func TestPruneRestoresWhatAKilledPruneHid(t *testing.T) {
	t.Parallel()
	lines := []string{"1.0.0 old", "2.0.0 old", "3.0.0 permanent"}
	root := pruneRoot(t, "3.0.0", lines...)
	rel := filepath.Join(root.Dir(), "releases", "1.0.0")
	hidden := filepath.Join(root.Dir(), "releases", ".prune-1.0.0-123")
	must(t, os.Mkdir(hidden, 0o700))
	must(t, os.Rename(rel, filepath.Join(hidden, "1.0.0")))

	res, err := root.Prune(install.PruneOptions{Keep: 5})
	must(t, err)
	if len(res.Removed) != 0 {
		t.Errorf("removed: want none, got %q", res.Removed)
	}
	if _, err := os.Stat(filepath.Join(rel, "app")); err != nil {
		t.Errorf("release 1.0.0, still listed in RELEASES: want it back in %s, got %v", rel, err)
	}
	if _, err := os.Stat(hidden); !os.IsNotExist(err) {
		t.Errorf("%s: want it gone, got %v", hidden, err)
	}
	if got := stateLines(t, root); !slices.Equal(lines, got) {
		t.Errorf("RELEASES: want %q, got %q", lines, got)
	}
	if want, got := []string{"1.0.0", "2.0.0", "3.0.0"}, releaseDirs(t, root); !slices.Equal(want, got) {
		t.Errorf("directories under releases/: want %q, got %q", want, got)
	}
}

// TestPruneKeepsARecordedSwitch: the supervisor commits a probation
// rollback without the change lock, so RELEASES can change while a prune
// (the one after every switch, too) runs. The prune must not write its
// older view over it: it puts everything back and fails.
func TestPruneKeepsARecordedSwitch(t *testing.T) {
	t.Parallel()
	root := pruneRoot(t, "3.0.0", "1.0.0 old", "2.0.0 old", "3.0.0 permanent")
	switched := []string{"1.0.0 old", "2.0.0 permanent", "3.0.0 old"}
	install.SetBeforeStateWrite(root, func() {
		rs, err := install.ParseReleases([]byte(strings.Join(switched, "\n")))
		must(t, err)
		must(t, install.WriteReleases(root.StateFilePath(), rs))
	})
	_, err := root.Prune(install.PruneOptions{Keep: 0})
	if err == nil || !errors.Is(err, install.ErrBusy) || !strings.Contains(err.Error(), "releases prune") {
		t.Errorf("prune while RELEASES changed: want ErrBusy saying to run releases prune again, got %v", err)
	}
	if got := stateLines(t, root); !slices.Equal(switched, got) {
		t.Errorf("RELEASES: want what the supervisor wrote, %q, got %q", switched, got)
	}
	if want, got := []string{"1.0.0", "2.0.0", "3.0.0"}, releaseDirs(t, root); !slices.Equal(want, got) {
		t.Errorf("directories under releases/: want %q, got %q", want, got)
	}
}
