package sbomcheck

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/xeipuuv/gojsonschema"
)

// repoRoot is relkit's module root, three levels up.
var repoRoot = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}()

// goCmd runs the go command in dir and returns its output.
func goCmd(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// buildLinks builds relkit from the checkout and the links example with
// it, and returns the SBOM of the release.
func buildLinks(t *testing.T) []byte {
	t.Helper()
	tmp := t.TempDir()
	relkit := filepath.Join(tmp, "relkit")
	goCmd(t, repoRoot, nil, "build", "-o", relkit, "./cmd/relkit")
	out := filepath.Join(tmp, "out")
	cmd := exec.Command(relkit, "build", "-version", "1.4.0", "-o", out, "./examples/links")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("relkit build ./examples/links: %v\n%s", err, o)
	}
	data, err := os.ReadFile(filepath.Join(out, "links", "releases", "1.4.0", "sbom.cdx.json"))
	if err != nil {
		t.Fatalf("relkit build wrote no SBOM: %v", err)
	}
	return data
}

// schema compiles CycloneDX's official JSON schema of version 1.6, from
// the copy the cyclonedx-go module ships. bom-1.6.schema.json refers to
// spdx.schema.json and jsf-0.82.schema.json by their URLs under
// http://cyclonedx.org/schema/; they are loaded from the same copy (the
// module ships the JSF schema as jsf-0.82.schemax.json), so nothing is
// fetched.
func schema(t *testing.T) *gojsonschema.Schema {
	t.Helper()
	dir := filepath.Join(goCmd(t, ".", nil, "list", "-m", "-f", "{{.Dir}}", "github.com/CycloneDX/cyclonedx-go"), "schema")
	load := func(f string) gojsonschema.JSONLoader {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		return gojsonschema.NewBytesLoader(b)
	}
	sl := gojsonschema.NewSchemaLoader()
	for url, f := range map[string]string{
		"http://cyclonedx.org/schema/spdx.schema.json":     "spdx.schema.json",
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": "jsf-0.82.schemax.json",
	} {
		if err := sl.AddSchema(url, load(f)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	s, err := sl.Compile(load("bom-1.6.schema.json"))
	if err != nil {
		t.Fatalf("compile bom-1.6.schema.json: %v", err)
	}
	return s
}

func TestSBOMIsValidCycloneDX(t *testing.T) {
	data := buildLinks(t)

	// The official JSON schema of CycloneDX 1.6.
	res, err := schema(t).Validate(gojsonschema.NewBytesLoader(data))
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	for _, e := range res.Errors() {
		t.Errorf("CycloneDX 1.6 schema: %s", e)
	}

	// The official Go parser.
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("cyclonedx-go cannot decode the SBOM: %v", err)
	}
	// Every field relkit writes is one the official library knows: its
	// encoding of what it decoded is the same JSON.
	var again bytes.Buffer
	enc := cdx.NewBOMEncoder(&again, cdx.BOMFileFormatJSON)
	if err := enc.EncodeVersion(&bom, cdx.SpecVersion1_6); err != nil {
		t.Fatalf("cyclonedx-go cannot encode the decoded SBOM: %v", err)
	}
	var relkitJSON, cdxJSON any
	if err := json.Unmarshal(data, &relkitJSON); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(again.Bytes(), &cdxJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(relkitJSON, cdxJSON) {
		t.Errorf("cyclonedx-go decodes and re-encodes the SBOM differently: a field it does not know, or a value it normalizes\nrelkit:      %.2000s\ncyclonedx-go: %.2000s", data, again.Bytes())
	}

	if bom.SpecVersion != cdx.SpecVersion1_6 || bom.Metadata == nil || bom.Metadata.Component == nil {
		t.Fatalf("want a CycloneDX 1.6 BOM describing the app, got spec %v, metadata %+v", bom.SpecVersion, bom.Metadata)
	}
	if c := bom.Metadata.Component; c.Name != "github.com/relkit/relkit" || c.Version != "1.4.0" || c.Type != cdx.ComponentTypeApplication {
		t.Errorf("metadata.component: want application github.com/relkit/relkit 1.4.0, got %s %s %s", c.Type, c.Name, c.Version)
	}
	if bom.Metadata.Timestamp != "2023-11-14T22:13:20Z" {
		t.Errorf("metadata.timestamp: want the recorded build time 2023-11-14T22:13:20Z, got %q", bom.Metadata.Timestamp)
	}

	// The modules links links, with the versions relkit's go.mod selects.
	refs := map[string]bool{bom.Metadata.Component.BOMRef: true}
	got := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		got[c.Name] = c
		refs[c.BOMRef] = true
	}
	for _, mod := range []string{"github.com/golang-migrate/migrate/v4", "github.com/caarlos0/env/v10", "github.com/lib/pq"} {
		want := goCmd(t, repoRoot, nil, "list", "-m", "-f", "{{.Version}}", mod)
		c, ok := got[mod]
		switch {
		case !ok:
			t.Errorf("the SBOM does not list %s", mod)
		case c.Version != want || c.PackageURL != "pkg:golang/"+mod+"@"+want:
			t.Errorf("%s: want version %s and purl pkg:golang/%s@%s, got %s %s", mod, want, mod, want, c.Version, c.PackageURL)
		case c.Hashes == nil || len(*c.Hashes) != 1 || (*c.Hashes)[0].Algorithm != cdx.HashAlgoSHA256 || len((*c.Hashes)[0].Value) != 64:
			t.Errorf("%s: want its go.sum hash as one SHA-256, got %+v", mod, c.Hashes)
		}
	}
	if std, want := got["std"], goCmd(t, repoRoot, nil, "env", "GOVERSION"); std.Version != want {
		t.Errorf("std: want the Go version %s, got %q", want, std.Version)
	}
	// Every reference in the dependency graph names a component.
	for _, d := range *bom.Dependencies {
		if !refs[d.Ref] {
			t.Errorf("dependencies: %s names no component", d.Ref)
		}
		for _, r := range *d.Dependencies {
			if !refs[r] {
				t.Errorf("dependencies: %s depends on %s, which names no component", d.Ref, r)
			}
		}
	}
}
