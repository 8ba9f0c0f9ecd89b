package gen

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/relkit/relkit/internal/relspec"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"quote":    quote,
	"seconds":  func(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) },
	"duration": duration,
}).ParseFS(templateFS, "templates/*.tmpl"))

// quote renders s as a double-quoted string valid in JSON, YAML and
// Dockerfile exec form.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// ErrInvalid is matched by every validation error of the generators.
var ErrInvalid = errors.New("invalid input for generated files")

// App is what the generators need to know about the app, usually taken
// from its relkit-info answer.
type App struct {
	// Name is the release name (the binary's name). Required.
	Name string
	// Version is the release version. Required.
	Version string
	// Port is the HTTP port the app listens on. Default 4000.
	Port int
	// Secrets are the environment variables the app marks secret, e.g.
	// SECRET_KEY_BASE and DATABASE_URL. Default none.
	Secrets []Secret
	// ShutdownTimeout is the app's SHUTDOWN_TIMEOUT. Default 30s.
	ShutdownTimeout time.Duration
	// DrainDelay is DRAIN_DELAY: how long the app keeps serving with
	// /readyz failing after SIGTERM, so load balancers notice. Default 0.
	DrainDelay time.Duration
}

// Secret is one secret environment variable.
type Secret struct {
	// Name is the variable's name.
	Name string
	// Required marks variables the app cannot boot without.
	Required bool
}

// File is one generated file.
type File struct {
	// Name is the slash-separated path relative to the output directory.
	Name string
	// Data is the file's content.
	Data []byte
}

// Defaults applied to a zero [App] field.
const (
	DefaultPort            = 4000
	DefaultShutdownTimeout = 30 * time.Second
)

var (
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func (a App) withDefaults() (App, error) {
	var errs []string
	if relspec.CheckName(a.Name) != nil {
		errs = append(errs, fmt.Sprintf("release name %q: use letters, digits, '-', '_' and '.', at most %d", a.Name, relspec.MaxNameLen))
	}
	if relspec.CheckVersion(a.Version) != nil {
		errs = append(errs, fmt.Sprintf("version %q: use letters, digits, '.', '-', '_' and '+', e.g. 1.2.0", a.Version))
	}
	if a.Port == 0 {
		a.Port = DefaultPort
	}
	if a.Port < 1 || a.Port > 65535 {
		errs = append(errs, fmt.Sprintf("port %d: want 1-65535", a.Port))
	}
	if a.ShutdownTimeout == 0 {
		a.ShutdownTimeout = DefaultShutdownTimeout
	}
	if a.ShutdownTimeout < 0 || a.DrainDelay < 0 {
		errs = append(errs, "shutdown timeout and drain delay must not be negative")
	}
	for _, s := range a.Secrets {
		if !envNameRE.MatchString(s.Name) {
			errs = append(errs, fmt.Sprintf("secret variable %q is not a valid environment variable name", s.Name))
		}
	}
	a.Secrets = append([]Secret{}, a.Secrets...)
	sort.Slice(a.Secrets, func(i, j int) bool { return a.Secrets[i].Name < a.Secrets[j].Name })
	if len(errs) > 0 {
		return a, invalid(errs)
	}
	return a, nil
}

func invalid(errs []string) error {
	return fmt.Errorf("%w:\n  %s", ErrInvalid, strings.Join(errs, "\n  "))
}

// duration formats d the way Go's time.ParseDuration reads it back, in
// whole seconds: "30s", "1m30s".
func duration(d time.Duration) string {
	return d.Round(time.Second).String()
}

func render(name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// cleanPackage returns pkg as a "./dir" path relative to the module root.
func cleanPackage(pkg string) (string, error) {
	if pkg == "" {
		pkg = "."
	}
	if strings.HasPrefix(pkg, "/") || strings.Contains(pkg, "\\") {
		return "", invalid([]string{fmt.Sprintf("package %q: want a path relative to the module root, e.g. ./cmd/app", pkg)})
	}
	p := path.Clean(pkg)
	if p == ".." || strings.HasPrefix(p, "../") || strings.ContainsAny(p, " \t\n\"'$`") {
		return "", invalid([]string{fmt.Sprintf("package %q: want a path inside the module without spaces or quotes, e.g. ./cmd/app", pkg)})
	}
	if p == "." {
		return ".", nil
	}
	return "./" + p, nil
}

var dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// dnsName turns a release name into a DNS label (RFC 1123) usable as a
// Kubernetes object name and an image name: lower case, '_' and '.' become
// '-'. It fails when the result is still not a label.
func dnsName(name string) (string, error) {
	n := strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(name))
	if len(n) > 63 || !dnsLabelRE.MatchString(n) {
		return "", invalid([]string{fmt.Sprintf("release name %q gives %q, not a DNS label (lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit)", name, n)})
	}
	return n, nil
}

// imageTag turns a version into a container image tag and label value:
// '+' (semver build metadata) becomes '_'.
func imageTag(version string) string {
	return strings.ReplaceAll(version, "+", "_")
}
