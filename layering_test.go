package relkit_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestLayering holds the module's dependency graph to its layers: an
// internal package (shared machinery) never imports a public package (the
// API apps use; the benchmark programs under internal/testkit/bench, which
// measure that API, excepted), the leaf packages never import release, and nothing the
// product builds imports the test infrastructure in internal/testkit.
func TestLayering(t *testing.T) {
	t.Parallel()
	const mod = "github.com/relkit/relkit"
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports,Module", "./...").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	internal := func(p string) bool { return strings.Contains(p, "/internal/") || strings.HasSuffix(p, "/internal") }
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var pkg struct {
			ImportPath string
			Imports    []string
			Module     *struct{ Path string }
		}
		if err := dec.Decode(&pkg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if pkg.Module == nil || pkg.Module.Path != mod {
			continue
		}
		from := pkg.ImportPath
		for _, to := range pkg.Imports {
			if to != mod && !strings.HasPrefix(to, mod+"/") {
				continue
			}
			switch {
			case internal(from) && !internal(to) && !strings.HasPrefix(from, mod+"/internal/testkit/bench/"):
				// The benchmark programs are apps of the public API,
				// measuring it; nothing imports them.
				t.Errorf("%s imports %s: an internal package must not depend on a public one", from, to)
			case strings.HasPrefix(to, mod+"/internal/testkit") && !strings.HasPrefix(from, mod+"/internal/testkit"):
				t.Errorf("%s imports the test infrastructure %s", from, to)
			case !strings.HasPrefix(from, mod+"/release") && !strings.HasPrefix(from, mod+"/examples") && !strings.HasPrefix(from, mod+"/cmd") &&
				(to == mod+"/release" || strings.HasPrefix(to, mod+"/release/")):
				t.Errorf("%s imports %s: only applications import release", from, to)
			}
		}
	}
}
