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
	"dict":     dict,
}).ParseFS(templateFS, "templates/*.tmpl"))

// quote renders s as a double-quoted string valid in JSON, YAML and
// Dockerfile exec form.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// dict builds a map from key, value pairs, to pass several values to a
// template.
func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
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
	// Server is the app's code default for running the HTTP server
	// (release.App.Server). Default false: the generated files set
	// SERVER=true where the release is meant to serve.
	Server bool
	// Variables are the environment variables the app declares that an
	// operator must or may have to set: every required and every secret
	// one, e.g. SECRET_KEY_BASE, DATABASE_URL and the app's own. Every
	// generated instruction names each of them. Default none.
	Variables []Variable
	// Migrations says the app embeds SQL migrations, so it has a migrate
	// command. Default false.
	Migrations bool
	// ShutdownTimeout is the app's SHUTDOWN_TIMEOUT. Default 30s.
	ShutdownTimeout time.Duration
	// DrainDelay is DRAIN_DELAY: how long the app keeps serving with
	// /readyz failing after SIGTERM, so load balancers notice. Default 0.
	DrainDelay time.Duration
}

// Variable is one environment variable an operator sets.
type Variable struct {
	// Name is the variable's name.
	Name string
	// Required marks variables the app cannot boot without.
	Required bool
	// Secret marks values that belong in a secret store, never in a
	// manifest or an image.
	Secret bool
	// Generate marks a random secret the release makes itself with its
	// gen-secret command (SECRET_KEY_BASE). The instructions run it
	// instead of showing a placeholder.
	Generate bool
}

// Placeholder returns the value the instructions show for v when it is not
// generated: a shell word in single quotes the operator replaces.
func (v Variable) Placeholder() string {
	if v.Name == "DATABASE_URL" {
		return "'postgres://USER:PASSWORD@HOST:5432/DATABASE'"
	}
	return "'...'"
}

// Secrets returns the secret variables, sorted by name.
func (a App) Secrets() []Variable { return a.filter(func(v Variable) bool { return v.Secret }) }

// Settings returns the required variables that are not secret, sorted by
// name: configuration without a default the operator must provide.
func (a App) Settings() []Variable {
	return a.filter(func(v Variable) bool { return v.Required && !v.Secret })
}

// secret returns the secret variable named name, if the app declares it.
func (a App) secret(name string) (Variable, bool) {
	for _, v := range a.Variables {
		if v.Name == name && v.Secret {
			return v, true
		}
	}
	return Variable{}, false
}

func (a App) filter(keep func(Variable) bool) []Variable {
	var out []Variable
	for _, v := range a.Variables {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
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
	seen := map[string]bool{}
	for _, v := range a.Variables {
		if !envNameRE.MatchString(v.Name) {
			errs = append(errs, fmt.Sprintf("variable %q is not a valid environment variable name", v.Name))
		}
		if seen[v.Name] {
			errs = append(errs, fmt.Sprintf("variable %s is declared twice", v.Name))
		}
		seen[v.Name] = true
	}
	a.Variables = append([]Variable{}, a.Variables...)
	sort.Slice(a.Variables, func(i, j int) bool { return a.Variables[i].Name < a.Variables[j].Name })
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
