// Package sbomcheck holds a test-only check: the SBOM that relkit build
// writes into a release (releases/VSN/sbom.cdx.json) is valid CycloneDX 1.6
// by the specification's own JSON schema, as shipped with
// github.com/CycloneDX/cyclonedx-go and applied with the validator its
// tests use (gojsonschema); it decodes with cyclonedx-go's parser; and it
// lists the modules the app links with the versions relkit's go.mod
// selects.
//
// It lives in its own module so gojsonschema stays out of relkit's go.mod.
// Run it with .ci/extra/sbomcheck/run (the repository's CI does), or from
// this directory with go test ./....
package sbomcheck
