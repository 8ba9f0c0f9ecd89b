// Module sbomcheck validates the SBOM of relkit build with CycloneDX's
// official schema. It is a separate module so that the schema validator
// never enters relkit's own go.mod: run it with
//
//	cd .ci/extra/sbomcheck && go test ./...
module sbomcheck

go 1.26.0

require (
	github.com/CycloneDX/cyclonedx-go v0.12.0
	github.com/xeipuuv/gojsonschema v1.2.0
)

require (
	github.com/xeipuuv/gojsonpointer v0.0.0-20180127040702-4e3ac2762d5f // indirect
	github.com/xeipuuv/gojsonreference v0.0.0-20180127040603-bd5ef7bd5415 // indirect
)
