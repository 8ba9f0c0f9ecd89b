// Command relkit assembles releases of relkit apps and writes their
// deployment files: what `mix release` and `mix phx.gen.release --docker`
// do for a Phoenix application.
//
//	relkit build [-version V] [-target os/arch,...] [-o DIR] [-tar] [-image] [PKG]
//	relkit tar [-o DIR] [RELEASE_DIR...]
//	relkit keygen [-unencrypted] KEYFILE
//	relkit sign -key KEYFILE TARBALL...
//	relkit verify TARBALL
//	relkit gen docker|systemd|k8s|ansible [-o DIR] [PKG]
//
// Use it as a Go tool, pinned in your go.mod next to the relkit library:
//
//	go get -tool github.com/relkit/relkit/cmd/relkit
//	go tool relkit build -tar ./cmd/myapp
//
// or with go run, at the relkit version your go.mod already requires (the
// command uses only the standard library and what the release package
// links, so it adds nothing to go.sum; see below why the image and SBOM
// writers keep it so):
//
//	go run github.com/relkit/relkit/cmd/relkit build ./cmd/myapp
//
// # What build does
//
// It builds PKG with -trimpath, CGO_ENABLED=0 (unless the environment sets
// CGO_ENABLED), -ldflags "-s -w" (-strip=false keeps symbols) and, with
// -version, -X github.com/relkit/relkit/release.version=V. It asks the
// built binary for its name, version, port and migrations (the hidden
// relkit-info command every relkit app has; that binary is always built for
// the build machine, GOHOSTOS/GOHOSTARCH, while GOOS/GOARCH or -target
// choose what is released), and assembles
//
//	_build/rel/NAME/                 (several targets: _build/rel/NAME-OS-ARCH/)
//	  bin/NAME -> ../releases/VSN/NAME
//	  releases/VSN/NAME
//	  releases/VSN/release.json      name, version, target, Go version, VCS
//	                                 revision, build time, SHA-256 of every
//	                                 file, embedded migrations
//	  releases/VSN/sbom.cdx.json     CycloneDX SBOM of the binary (sbom.go)
//	  tmp/  log/
//	  ...                            rel/overlays/ copied in
//
// rel/overlays is looked up in the package directory, then in the module
// root. The build time is SOURCE_DATE_EPOCH when set, else the commit time
// of the checkout, else the clock; two builds of one commit give identical
// tarballs. relkit verify TARBALL checks that claim for a given tarball:
// it rebuilds it from a clean checkout of the recorded commit and compares.
//
// # Container images without Docker
//
// -image also writes an OCI image of the release (package
// internal/ociimage): NAME-VSN.oci, an image layout directory, and
// NAME-VSN.oci.tar for docker load, podman load or skopeo copy
// oci-archive:. Nothing is pulled; the image is FROM scratch by
// construction: the release at /app (root's, with tmp/ and log/ belonging
// to the nonroot user 65534), /etc/passwd and /etc/group naming that user,
// the build machine's CA bundle at /etc/ssl/certs/ca-certificates.crt
// (-ca-certs FILE to choose another), Go's time zone database from GOROOT
// (ZONEINFO), User 65534:65534, Entrypoint /app/bin/NAME with Cmd start
// (as in the Dockerfile gen docker writes, so `docker run IMAGE migrate`
// and the Kubernetes Job work alike), the health check, and the version,
// VCS revision and build time as OCI annotations and labels. Several
// -target platforms give one image index. Every time in it is the build
// time, entries are sorted and owners numeric, so one commit gives one
// digest.
//
// # Why the image format is written with the standard library
//
// The build tool stays in the relkit module and keeps to the standard
// library. Measured with a scratch app that requires github.com/relkit/relkit
// through a local replace and imports only the release package (go mod
// tidy, Go 1.26):
//
//	                                           app's go.sum   app's module graph
//	standard library (this package)            32 lines       18 modules
//	go-containerregistry v0.22.1 in relkit's   32 lines       23 modules
//	  go.mod, imported by cmd/relkit only      (50 with `tool github.com/relkit/relkit/cmd/relkit`)
//	cmd/relkit as its own module with it       32 lines       18 modules
//	                                           (50 with the tool, plus a second
//	                                            require and, unpublished, replace)
//
// With the library in the root module, every app's module graph gains its
// five modules (minimal version selection can raise an app's own
// klauspost/compress, x/sync or image-spec), and `go run
// github.com/relkit/relkit/cmd/relkit` from an app stops working without
// the tool directive ("missing go.sum entry"). As its own module, the tool
// needs a go.work or a second test command here, a second require (and,
// while relkit is unpublished, a second replace) in every app, and still
// adds 18 lines to go.sum of apps that pin it with go get -tool. The
// format itself is small and fixed (an image layout: blobs named by
// SHA-256, a config, a manifest, an index; Docker's manifest.json), so
// internal/ociimage writes it in about 500 lines, and the tests check the
// result with tools that share no code with it: oci-image-tool validate,
// skopeo inspect, umoci unpack, and runc running the unpacked image.
//
// main only wires the process (arguments, environment, standard streams,
// working directory, signals) into run; nothing else reads them.
package main
