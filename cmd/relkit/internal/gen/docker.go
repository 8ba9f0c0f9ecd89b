package gen

import (
	"fmt"
	"regexp"
)

// DockerOptions configure [Docker]. The zero value is usable.
type DockerOptions struct {
	// Package is the app's main package relative to the module root,
	// which is the build context. Default ".".
	Package string
	// GoVersion is the golang image tag of the builder stage, e.g. "1.24".
	// Default "1" (the newest Go 1 release).
	GoVersion string
	// UID is the numeric user (and group) the release runs as. Default
	// 65534 (nobody).
	UID int
	// Vendor builds from the module's vendor/ directory (GOFLAGS=-mod=vendor)
	// and downloads nothing: for a go.mod that replaces modules with local
	// directories outside the build context. Default false.
	Vendor bool
	// LocalReplace says go.mod replaces modules with directories inside
	// the module: then the build copies the whole context before resolving
	// modules, as `go mod download` on go.mod and go.sum alone would miss
	// them. Default false.
	LocalReplace bool
}

// Paths inside the image, shared by the Dockerfile and the Kubernetes
// manifests.
const (
	// ImageRoot is where the release is installed in the image.
	ImageRoot = "/app"
	// BuildOut is where the builder stage assembles the release.
	BuildOut = "/out"
	// DefaultUID is nobody.
	DefaultUID = 65534
)

var goVersionRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,2}$`)

// Docker returns a multi-stage Dockerfile and its .dockerignore. The
// builder stage (the official golang image) runs relkit build; the final
// stage is scratch with CA certificates and time zone data copied in, the
// release at /app owned by root, and only /app/tmp and /app/log writable by
// the numeric non-root user. HEALTHCHECK runs the release's own health
// command, so the image needs no curl. The header shows the docker run
// line with every required and secret variable of the app (-e NAME=...,
// SECRET_KEY_BASE from the image's gen-secret).
func Docker(app App, opts DockerOptions) ([]File, error) {
	app, err := app.withDefaults()
	if err != nil {
		return nil, err
	}
	pkg, err := cleanPackage(opts.Package)
	if err != nil {
		return nil, err
	}
	if opts.GoVersion == "" {
		opts.GoVersion = "1"
	}
	if !goVersionRE.MatchString(opts.GoVersion) {
		return nil, invalid([]string{fmt.Sprintf("Go version %q: want e.g. 1.24", opts.GoVersion)})
	}
	if opts.UID == 0 {
		opts.UID = DefaultUID
	}
	if opts.UID < 1 {
		return nil, invalid([]string{fmt.Sprintf("uid %d: the release must not run as root", opts.UID)})
	}
	image, err := dnsName(app.Name)
	if err != nil {
		return nil, err
	}
	dbURL := Variable{Name: "DATABASE_URL"}.Placeholder()
	data := map[string]any{
		"App": app, "Package": pkg, "GoVersion": opts.GoVersion, "UID": opts.UID,
		"Root": ImageRoot, "Out": BuildOut, "Image": image + ":" + imageTag(app.Version),
		"Vendor": opts.Vendor, "Download": !opts.Vendor && !opts.LocalReplace, "DatabaseURL": dbURL,
	}
	dockerfile, err := render("Dockerfile.tmpl", data)
	if err != nil {
		return nil, err
	}
	ignore, err := render("dockerignore.tmpl", data)
	if err != nil {
		return nil, err
	}
	return []File{{Name: ".dockerignore", Data: ignore}, {Name: "Dockerfile", Data: dockerfile}}, nil
}
