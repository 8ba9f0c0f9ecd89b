// Command relkit assembles releases of relkit apps and writes their
// deployment files: what `mix release` and `mix phx.gen.release --docker`
// do for a Phoenix application.
//
//	relkit build [-version V] [-target os/arch,...] [-o DIR] [-tar] [PKG]
//	relkit tar [-o DIR] [RELEASE_DIR...]
//	relkit gen docker|systemd|k8s [-o DIR] [PKG]
//
// Use it as a Go tool, pinned in your go.mod next to the relkit library:
//
//	go get -tool github.com/relkit/relkit/cmd/relkit
//	go tool relkit build -tar ./cmd/myapp
//
// or with go run, at the relkit version your go.mod already requires (the
// command uses only the standard library, so it adds nothing to go.sum):
//
//	go run github.com/relkit/relkit/cmd/relkit build ./cmd/myapp
//
// # What build does
//
// It builds PKG with -trimpath, CGO_ENABLED=0 (unless the environment sets
// CGO_ENABLED), -ldflags "-s -w" (-strip=false keeps symbols) and, with
// -version, -X github.com/relkit/relkit/release.version=V. It asks the
// built binary for its name, version, port and migrations (the hidden
// relkit-info command every relkit app has; for other targets a host binary
// is built to ask), and assembles
//
//	_build/rel/NAME/                 (several targets: _build/rel/NAME-OS-ARCH/)
//	  bin/NAME -> ../releases/VSN/NAME
//	  releases/VSN/NAME
//	  releases/VSN/release.json      name, version, target, Go version, VCS
//	                                 revision, build time, SHA-256 of every
//	                                 file, embedded migrations
//	  tmp/  log/
//	  ...                            rel/overlays/ copied in
//
// rel/overlays is looked up in the package directory, then in the module
// root. The build time is SOURCE_DATE_EPOCH when set, else the commit time
// of the checkout, else the clock; two builds of one commit give identical
// tarballs.
//
// main only wires the process (arguments, environment, standard streams,
// working directory, signals) into run; nothing else reads them.
package main
