// Package sbomcheck holds a test-only check: the SBOM that relkit build
// writes into a release (releases/VSN/sbom.cdx.json) is valid CycloneDX 1.6
// by the specification's own JSON schema, as shipped with
// github.com/CycloneDX/cyclonedx-go and applied with the validator its
// tests use (gojsonschema); cyclonedx-go, the format's Go library, decodes
// it and encodes it back to the same JSON; and it lists the modules the app
// links with the versions relkit's go.mod selects.
//
// relkit writes the SBOM with the standard library (see cmd/relkit/sbom.go);
// this module, and only it, requires cyclonedx-go and gojsonschema, so they
// stay out of relkit's go.mod.
// Run it with .ci/extra/sbomcheck/run (the repository's CI does), or from
// this directory with go test ./....
package sbomcheck
