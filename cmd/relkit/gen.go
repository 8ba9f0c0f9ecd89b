package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/relkit/relkit/cmd/relkit/internal/gen"
	"github.com/relkit/relkit/cmd/relkit/internal/gotool"
)

const genSynopsis = "docker|systemd|k8s|ansible [flags] [PKG]"

func genCommand() *command {
	return &command{
		name:     "gen",
		synopsis: genSynopsis,
		summary:  "write a Dockerfile, systemd units, Kubernetes manifests or an Ansible playbook for the app",
		long: `The app's name, version, port and secret variables come from the app
itself (a host build of PKG, default "."). Existing files are not
overwritten without -force. Run relkit gen KIND -h for KIND's flags.

  docker    Dockerfile and .dockerignore (default: in the module root)
  systemd   NAME.service, and NAME.socket with -socket (default: deploy/systemd)
  k8s       NAME.yaml: Deployment, Service, migration Job (default: deploy/k8s)
  ansible   NAME.yml, roles/NAME/ and inventory.example.ini: a rolling
            deploy to several hosts (default: deploy/ansible)`,
		flags: func(*flag.FlagSet) func(context.Context, *osEnv, []string) error {
			return runGen
		},
	}
}

// genKind is one kind of deployment files.
type genKind struct {
	name   string
	outDir string // default output directory relative to the module root
	// flags declares the kind's own flags and returns the generator.
	flags func(fs *flag.FlagSet) func(ctx context.Context, p *project, app gen.App) ([]gen.File, error)
}

func genKinds() []genKind {
	return []genKind{
		{name: "docker", outDir: ".", flags: func(fs *flag.FlagSet) func(context.Context, *project, gen.App) ([]gen.File, error) {
			uid := fs.Int("uid", gen.DefaultUID, "numeric user and group the container runs as (not 0)")
			goVersion := fs.String("go", "", "golang image tag of the builder stage (default: this toolchain's major.minor, e.g. 1.24)")
			return func(ctx context.Context, p *project, app gen.App) ([]gen.File, error) {
				rel, err := filepath.Rel(p.pkg.ModuleDir, p.pkg.Dir)
				if err != nil {
					return nil, err
				}
				gv := *goVersion
				if gv == "" {
					gv = minorVersion(p.goVersion)
				}
				o := gen.DockerOptions{Package: filepath.ToSlash(rel), GoVersion: gv, UID: *uid}
				if err := dockerReplaces(ctx, p, &o); err != nil {
					return nil, err
				}
				return gen.Docker(app, o)
			}
		}},
		{name: "systemd", outDir: filepath.Join("deploy", "systemd"), flags: func(fs *flag.FlagSet) func(context.Context, *project, gen.App) ([]gen.File, error) {
			var o gen.SystemdOptions
			fs.StringVar(&o.Root, "root", "", "directory the release is unpacked into (default /opt/NAME)")
			fs.StringVar(&o.User, "user", "", "user running the service (default: the release name)")
			fs.StringVar(&o.EnvironmentFile, "env-file", "", "environment file with the configuration (default /etc/NAME/NAME.env)")
			fs.BoolVar(&o.Socket, "socket", false, "also write NAME.socket: systemd holds the listening socket (socket activation)")
			fs.StringVar(&o.Listen, "listen", "", "the socket's ListenStream=, PORT or IP:PORT (default: the app's port)")
			fs.DurationVar(&o.DrainDelay, "drain-delay", 0, "DRAIN_DELAY written into the environment file by the install instructions: how long the app keeps serving after SIGTERM while /readyz fails (default: the app's)")
			return func(_ context.Context, _ *project, app gen.App) ([]gen.File, error) {
				return gen.Systemd(app, o)
			}
		}},
		{name: "k8s", outDir: filepath.Join("deploy", "k8s"), flags: func(fs *flag.FlagSet) func(context.Context, *project, gen.App) ([]gen.File, error) {
			var o gen.KubernetesOptions
			fs.StringVar(&o.Image, "image", "", "container image (default NAME:VSN, as relkit build -image or relkit gen docker's Dockerfile tag it)")
			fs.IntVar(&o.Replicas, "replicas", gen.DefaultReplicas, "Deployment replicas")
			fs.StringVar(&o.SecretName, "secret", "", "Secret holding the secret variables (default NAME-secrets)")
			fs.DurationVar(&o.PreStop, "prestop", gen.DefaultPreStop, "preStop sleep before SIGTERM")
			drain := fs.Duration("drain-delay", 5*time.Second, "DRAIN_DELAY set on the pods")
			return func(_ context.Context, _ *project, app gen.App) ([]gen.File, error) {
				app.DrainDelay = *drain
				return gen.Kubernetes(app, o)
			}
		}},
		{name: "ansible", outDir: filepath.Join("deploy", "ansible"), flags: ansibleFlags},
	}
}

func runGen(ctx context.Context, e *osEnv, args []string) error {
	if len(args) == 0 {
		return usagef("relkit help gen", "gen needs a kind: docker, systemd, k8s or ansible")
	}
	var kind *genKind
	for _, k := range genKinds() {
		if k.name == args[0] {
			kind = &k
		}
	}
	if kind == nil {
		return usagef("relkit help gen", "unknown kind %q: want docker, systemd, k8s or ansible", args[0])
	}
	fs := flag.NewFlagSet("relkit gen "+kind.name, flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	out := fs.String("o", "", "output directory (default: "+kind.outDir+" in the module root)")
	force := fs.Bool("force", false, "overwrite existing files")
	generate := kind.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: relkit gen %s [flags] [PKG]\n\nFlags:\n", kind.name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usagef("relkit gen "+kind.name+" -h", "%s", err)
	}
	p, err := openProject(ctx, e, fs.Args(), "gen")
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(e.env["TMPDIR"], "relkit-gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	_, info, err := p.probe(ctx, gotool.Build{}, work)
	if err != nil {
		return err
	}
	app, err := genApp(info)
	if err != nil {
		return err
	}
	files, err := generate(ctx, p, app)
	if err != nil {
		return err
	}
	dir := filepath.Join(p.pkg.ModuleDir, kind.outDir)
	if *out != "" {
		dir = e.abs(*out)
	}
	return writeFiles(e, dir, files, *force)
}

// genApp takes what the generators need from the app's own description.
func genApp(info *gotool.AppInfo) (gen.App, error) {
	app := gen.App{Name: info.Name, Version: info.Version, Port: info.Port, Server: info.Server, Migrations: len(info.Migrations) > 0}
	for _, v := range info.Variables {
		if v.Secret || v.Required {
			// SECRET_KEY_BASE is, by runtimeconfig.Base's definition, the
			// value gen-secret makes; an app marks its own with "generate".
			generated := v.Generate || (v.Secret && v.Name == "SECRET_KEY_BASE")
			app.Variables = append(app.Variables, gen.Variable{Name: v.Name, Required: v.Required, Secret: v.Secret, Generate: generated})
		}
		var err error
		switch v.Name {
		case "SHUTDOWN_TIMEOUT":
			if v.Default != "" {
				app.ShutdownTimeout, err = time.ParseDuration(v.Default)
			}
		case "DRAIN_DELAY":
			if v.Default != "" {
				app.DrainDelay, err = time.ParseDuration(v.Default)
			}
		}
		if err != nil {
			return app, fmt.Errorf("%s declares %s=%q, not a duration", info.Name, v.Name, v.Default)
		}
	}
	return app, nil
}

// dockerReplaces looks at the local replace directives of the app's
// go.mod. The Dockerfile's build context is the module root: a replaced
// directory inside it is copied before modules are resolved; one outside
// it is reachable only through vendor/, else gen docker refuses.
func dockerReplaces(ctx context.Context, p *project, o *gen.DockerOptions) error {
	reps, err := p.tc.LocalReplaces(ctx, p.pkg.ModuleDir)
	if err != nil {
		return err
	}
	var outside []string
	for _, r := range reps {
		if rel, err := filepath.Rel(p.pkg.ModuleDir, r.Dir); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			o.LocalReplace = true
			continue
		}
		outside = append(outside, fmt.Sprintf("%s => %s", r.Old, r.New))
	}
	if len(outside) == 0 {
		return nil
	}
	vendored := filepath.Join(p.pkg.ModuleDir, "vendor", "modules.txt")
	tool := filepath.Join(p.pkg.ModuleDir, "vendor", "github.com", "relkit", "relkit", "cmd", "relkit")
	_, errMods := os.Stat(vendored)
	_, errTool := os.Stat(tool)
	if errMods == nil && errTool == nil {
		o.Vendor = true
		return nil
	}
	return fmt.Errorf(`go.mod replaces %s with a directory outside the module, which a Docker build context (the module root) cannot see.
Either build the image without Docker:
  relkit build -image %s
or vendor the dependencies into the build context and generate again:
  go get -tool github.com/relkit/relkit/cmd/relkit   (if it is not a tool of the module yet)
  go mod vendor
  relkit gen docker %s`, strings.Join(outside, ", "), p.pkgArg, p.pkgArg)
}

// writeFiles writes files into dir, refusing to replace existing files
// unless force is set: nothing is written when one exists.
func writeFiles(e *osEnv, dir string, files []gen.File, force bool) error {
	if !force {
		var exist []string
		for _, f := range files {
			p := filepath.Join(dir, filepath.FromSlash(f.Name))
			if _, err := os.Lstat(p); err == nil {
				exist = append(exist, e.display(p))
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		if len(exist) > 0 {
			return fmt.Errorf("%s already exist(s): pass -force to overwrite, or -o to write elsewhere", strings.Join(exist, ", "))
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil { // gen ansible writes roles/NAME/...
			return fmt.Errorf("create %s: %w", filepath.Dir(p), err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		fmt.Fprintf(e.stdout, "* wrote %s\n", e.display(p))
	}
	return nil
}

var goMinorRE = regexp.MustCompile(`^go([0-9]+\.[0-9]+)`)

// minorVersion turns "go1.24.2" into "1.24"; "1" when it cannot tell.
func minorVersion(goVersion string) string {
	if m := goMinorRE.FindStringSubmatch(goVersion); m != nil {
		return m[1]
	}
	return "1"
}
