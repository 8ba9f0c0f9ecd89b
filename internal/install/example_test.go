package install_test

import (
	"fmt"
	"path/filepath"

	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/manifest"
)

// demoRoot returns a release root with app 1.0.0 installed and the tarball
// of app 1.1.0 (with its .sha256) waiting in releases/1.1.0/, as an
// operator leaves it before `app upgrade 1.1.0`.
func demoRoot(t *exampleT) string {
	dir := t.TempDir()
	writeTree(t, dir, v1)
	writeTarball(t, filepath.Join(dir, "releases", "1.1.0", tarballName(v2)), tarGz(t, entries(t, v2)))
	return dir
}

func ExampleRoot_Unpack() {
	t := &exampleT{}
	defer t.cleanup()
	root, err := install.Open(demoRoot(t), "app")
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := root.Unpack("1.1.0", install.UnpackOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("unpacked", res.Manifest.Name, res.Version, "into", filepath.Base(filepath.Dir(res.Dir))+"/"+filepath.Base(res.Dir))
	linked, _ := root.Linked()
	fmt.Println("bin/app still starts", linked)
	// Output:
	// unpacked app 1.1.0 into releases/1.1.0
	// bin/app still starts 1.0.0
}

func ExampleRoot_MakePermanent() {
	t := &exampleT{}
	defer t.cleanup()
	root, _ := install.Open(demoRoot(t), "app")
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	// The new release was started and reported ready: record the outcome.
	if err := root.MakeCurrent("1.1.0"); err != nil {
		fmt.Println(err)
		return
	}
	if err := root.MakePermanent("1.1.0"); err != nil {
		fmt.Println(err)
		return
	}
	linked, _ := root.Linked()
	fmt.Println("bin/app starts", linked)
	// Output:
	// bin/app starts 1.1.0
}

func ExampleRoot_List() {
	t := &exampleT{}
	defer t.cleanup()
	root, _ := install.Open(demoRoot(t), "app")
	if _, err := root.Unpack("1.1.0", install.UnpackOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	list, err := root.List("1.0.0") // the version the running system reports
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, in := range list {
		running := ""
		if in.Running {
			running = "running"
		}
		fmt.Printf("%-6s %-9s %s\n", in.Version, in.State, running)
	}
	// Output:
	// 1.0.0  permanent running
	// 1.1.0  unpacked
}

func ExampleParseReleases() {
	rs, err := install.ParseReleases([]byte("# comment\n1.0.0 old\n1.1.0 permanent\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("permanent:", rs.Permanent())
	_, err = install.ParseReleases([]byte("1.0.0 permanant\n"))
	fmt.Println(err)
	// Output:
	// permanent: 1.1.0
	// RELEASES: 1 line(s) cannot be read (fix them by hand: one "VERSION STATE" per line, STATE one of unpacked, current, permanent, old):
	//   line 1 "1.0.0 permanant": unknown state "permanant"
}

func ExampleReleases_MakePermanent() {
	rs, _ := install.ParseReleases([]byte("1.0.0 permanent\n"))
	rs.MarkUnpacked("1.1.0")
	rs.MakeCurrent("1.1.0")
	rs.MakePermanent("1.1.0")
	text, _ := rs.MarshalText()
	again, _ := install.ParseReleases(text)
	for _, e := range again.Entries() {
		fmt.Println(e.Version, e.State)
	}
	// Output:
	// 1.0.0 old
	// 1.1.0 permanent
}

func ExampleHighestMigration() {
	m := &manifest.Manifest{Name: "links", Version: "1.1.0", Migrations: []manifest.Migration{
		{File: "001_create_links.up.sql"}, {File: "001_create_links.down.sql"},
		{File: "002_add_clicks.up.sql"}, {File: "002_add_clicks.down.sql"},
	}}
	v, err := install.HighestMigration(m)
	fmt.Println(v, err)
	// A database at version 3 is newer than this release understands: a
	// downgrade to it must first run `links rollback -to 2` with the newer
	// release's binary, which has the down migration.
	// Output: 2 <nil>
}
