package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestGenSystemdPassesSystemdAnalyzeVerify(t *testing.T) {
	t.Parallel()
	analyze := needTool(t, "systemd-analyze")
	out := buildOnce(t, &sampleBuild)
	install := untar(t, filepath.Join(out, "sample-0.3.0-"+runtime.GOOS+"-"+runtime.GOARCH+".tar.gz"))
	units := t.TempDir()
	mustRelkit(t, "gen", "systemd", "-socket", "-root", install, "-o", units, samplePkg)
	service, err := os.ReadFile(filepath.Join(units, "sample.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Type=notify\n",
		"ExecStart=" + install + "/bin/sample start\n",
		"ExecReload=" + install + "/bin/sample restart\n",
		"Restart=on-failure\n",
		"EnvironmentFile=-/etc/sample/sample.env\n",
		"NoNewPrivileges=yes\n",
		"ProtectSystem=strict\n",
		"ReadWritePaths=" + install + "/tmp " + install + "/log " + install + "/releases " + install + "/bin\n",
		"TimeoutStopSec=40\n",
		"Requires=sample.socket\n",
	} {
		if !strings.Contains(string(service), want) {
			t.Errorf("sample.service: want line %q", want)
		}
	}
	// Process environment beats a release's releases/VSN/env: the unit
	// must set no defaults a release could not change.
	if strings.Contains(string(service), "\nEnvironment=") {
		t.Errorf("sample.service sets Environment=, which no release's env file could override:\n%s", service)
	}
	socket, err := os.ReadFile(filepath.Join(units, "sample.socket"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ListenStream=4123\n", "FileDescriptorName=http\n"} {
		if !strings.Contains(string(socket), want) {
			t.Errorf("sample.socket: want line %q", want)
		}
	}
	// systemd-analyze verify exits 0 even for unknown keys and values it
	// ignores, so any message counts as a failure too.
	cmd := exec.Command(analyze, "verify", filepath.Join(units, "sample.service"), filepath.Join(units, "sample-migrate.service"), filepath.Join(units, "sample.socket"))
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0")
	b, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(b)) > 0 {
		t.Fatalf("systemd-analyze verify: want exit 0 and no messages, got %v:\n%s", err, b)
	}
}

// dockerInstr is one Dockerfile instruction.
type dockerInstr struct {
	cmd   string // upper case
	flags map[string]string
	args  string
	stage int
}

// parseDockerfile splits a Dockerfile into instructions: comments dropped,
// continuation lines joined, --flags separated, stages numbered.
func parseDockerfile(t *testing.T, data string) []dockerInstr {
	t.Helper()
	var out []dockerInstr
	stage := -1
	var logical strings.Builder
	for _, line := range strings.Split(data, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && logical.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			logical.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		logical.WriteString(trimmed)
		text := logical.String()
		logical.Reset()
		cmd, rest, _ := strings.Cut(text, " ")
		in := dockerInstr{cmd: strings.ToUpper(cmd), flags: map[string]string{}}
		for strings.HasPrefix(rest, "--") {
			var flag string
			flag, rest, _ = strings.Cut(rest, " ")
			k, v, _ := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
			in.flags[k] = v
			rest = strings.TrimSpace(rest)
		}
		in.args = strings.TrimSpace(rest)
		if in.cmd == "FROM" {
			stage++
		}
		in.stage = stage
		out = append(out, in)
	}
	return out
}

func execForm(t *testing.T, in dockerInstr) []string {
	t.Helper()
	var v []string
	if err := json.Unmarshal([]byte(in.args), &v); err != nil {
		t.Fatalf("%s %s: want exec form (a JSON array): %v", in.cmd, in.args, err)
	}
	return v
}

// TestGenDockerfileMatchesTheRelease generates the Dockerfile, runs its
// build stage's relkit command for real, replays its COPY instructions into
// a directory standing for the image, and checks that the entry point,
// health check, user, port and writable paths fit the release found there.
func TestGenDockerfileMatchesTheRelease(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRelkit(t, "gen", "docker", "-o", dir, samplePkg)
	data, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	instrs := parseDockerfile(t, string(data))

	buildOut := t.TempDir() // stands for /out in the build stage
	image := t.TempDir()    // stands for / in the final image
	var final []dockerInstr
	sawBuild := false
	for _, in := range instrs {
		switch {
		case in.stage == 0 && in.cmd == "FROM":
			if !strings.HasPrefix(in.args, "golang:") || !strings.HasSuffix(in.args, " AS build") {
				t.Errorf("builder stage: want FROM golang:... AS build, got %q", in.args)
			}
		case in.stage == 0 && in.cmd == "RUN" && strings.Contains(in.args, "cmd/relkit build"):
			sawBuild = true
			_, cmdline, _ := strings.Cut(in.args, "github.com/relkit/relkit/cmd/relkit ")
			cmdline = strings.ReplaceAll(cmdline, `${VERSION:+-version "$VERSION"} `, "")
			args := strings.Fields(strings.ReplaceAll(cmdline, "/out", buildOut))
			if want := []string{"build", "-o", buildOut, samplePkg}; strings.Join(args, " ") != strings.Join(want, " ") {
				t.Fatalf("build stage runs relkit %v, want %v", args, want)
			}
			mustRelkit(t, args...)
		case in.stage == 0 && in.cmd == "RUN" && strings.HasPrefix(in.args, "mkdir"):
			script := strings.ReplaceAll(in.args, "/out", buildOut)
			if b, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
				t.Fatalf("build stage RUN %s: %v\n%s", in.args, err, b)
			}
		case in.stage == 1:
			final = append(final, in)
		}
	}
	if !sawBuild {
		t.Fatal("the build stage never runs relkit build")
	}

	var user, entry, health []string
	var exposed string
	env := map[string]string{}
	for _, in := range final {
		switch in.cmd {
		case "FROM":
			if in.args != "scratch" {
				t.Errorf("final stage: want FROM scratch, got %q", in.args)
			}
		case "COPY":
			if in.flags["from"] != "build" {
				t.Errorf("COPY %s: want --from=build", in.args)
				continue
			}
			parts := strings.Fields(in.args)
			src, dst := parts[0], parts[1]
			if !strings.HasPrefix(src, "/out/") {
				continue // CA certificates and zoneinfo from the golang image
			}
			from := filepath.Join(buildOut, strings.TrimPrefix(src, "/out/"))
			if _, err := os.Stat(from); err != nil {
				t.Fatalf("COPY %s: the build stage has no such path: %v", src, err)
			}
			target := filepath.Join(image, dst)
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command("cp", "-a", from+"/.", target).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v\n%s", err, b)
			}
			if in.flags["chown"] != "" && in.flags["chown"] != "65534:65534" {
				t.Errorf("COPY --chown=%s: want the runtime user 65534:65534", in.flags["chown"])
			}
		case "USER":
			user = strings.Split(in.args, ":")
		case "ENV":
			for _, kv := range strings.Fields(in.args) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		case "EXPOSE":
			exposed = in.args
		case "HEALTHCHECK":
			_, cmd, ok := strings.Cut(in.args, "CMD ")
			if !ok {
				t.Fatalf("HEALTHCHECK %s: want CMD", in.args)
			}
			health = execForm(t, dockerInstr{cmd: "HEALTHCHECK", args: cmd})
		case "ENTRYPOINT":
			entry = execForm(t, in)
		}
	}
	if len(user) != 2 || user[0] != "65534" || user[1] != "65534" {
		t.Errorf("USER: want numeric non-root 65534:65534, got %v", user)
	}
	if exposed != "4123" || env["PORT"] != "4123" {
		t.Errorf("EXPOSE %q and PORT=%q: want the app's port 4123 for both", exposed, env["PORT"])
	}
	if env["SERVER"] != "true" {
		t.Errorf("ENV SERVER: want true (the image's job is to serve), got %q", env["SERVER"])
	}
	if want := []string{"/app/bin/sample", "health"}; strings.Join(health, " ") != strings.Join(want, " ") {
		t.Errorf("HEALTHCHECK CMD: want %v, got %v", want, health)
	}
	if len(entry) != 1 || entry[0] != "/app/bin/sample" {
		t.Fatalf("ENTRYPOINT: want [/app/bin/sample], got %v", entry)
	}
	// The entry point resolves, through the bin/ symlink, to the binary.
	bin := filepath.Join(image, entry[0])
	resolved, err := filepath.EvalSymlinks(bin)
	if err != nil {
		t.Fatalf("ENTRYPOINT %s does not exist in the image: %v", entry[0], err)
	}
	if info, err := os.Stat(resolved); err != nil || info.Mode().Perm()&0o111 == 0 {
		t.Fatalf("ENTRYPOINT %s -> %s: want an executable, got %v", entry[0], resolved, err)
	}
	if rel, _ := filepath.Rel(image, resolved); path.Dir(filepath.ToSlash(rel)) != "app/releases/0.3.0" {
		t.Errorf("ENTRYPOINT resolves to %s, want app/releases/0.3.0/sample", rel)
	}
	for _, d := range []string{"tmp", "log"} {
		if info, err := os.Stat(filepath.Join(image, "app", d)); err != nil || !info.IsDir() {
			t.Errorf("/app/%s: want a directory writable by the runtime user, got %v", d, err)
		}
	}
	if env["TMPDIR"] != "/app/tmp" || env["HOME"] != "/app" {
		t.Errorf("ENV: want TMPDIR=/app/tmp and HOME=/app (scratch has no /tmp), got %v", env)
	}
	ignore, err := os.ReadFile(filepath.Join(dir, ".dockerignore"))
	if err != nil || !strings.Contains(string(ignore), "_build/") {
		t.Errorf(".dockerignore: want _build/ excluded, got %q (%v)", ignore, err)
	}
}

func TestGenKubernetes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRelkit(t, "gen", "k8s", "-o", dir, "-image", "registry.example.com/sample:0.3.0", samplePkg)
	data, err := os.ReadFile(filepath.Join(dir, "sample.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y := string(data)
	for _, want := range []string{
		"kind: Deployment\n", "kind: Service\n", "kind: Job\n",
		"name: sample-migrate-0-3-0\n", `args: ["migrate"]`,
		"terminationGracePeriodSeconds: 45\n", // preStop 5 + drain 5 + shutdown 30 + margin 5
		"path: /healthz\n", "path: /readyz\n",
		`image: "registry.example.com/sample:0.3.0"`,
		"containerPort: 4123\n",
		"key: SECRET_KEY_BASE\n", "key: DATABASE_URL\n",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("sample.yaml: want %q", want)
		}
	}
	// Generating again refuses to overwrite, and -force overwrites.
	r := relkit(t, nil, "gen", "k8s", "-o", dir, samplePkg)
	if r.code != exitFailure || !strings.Contains(r.stderr, "already exist") || !strings.Contains(r.stderr, "-force") {
		t.Fatalf("gen over an existing file: want exit 1 suggesting -force, got %d: %s", r.code, r.stderr)
	}
	mustRelkit(t, "gen", "k8s", "-force", "-o", dir, samplePkg)
}

const notesPkg = "./cmd/relkit/testdata/notes"

// notesVariables are the variables the notes app requires or keeps
// secret: its own two and runtimeconfig.Base's secrets.
var notesVariables = []string{"NOTES_API_TOKEN", "NOTES_ADMIN_EMAIL", "SECRET_KEY_BASE", "DATABASE_URL"}

// instruction returns the shell command in a generated file's header
// comment that starts with prefix, continuation lines joined.
func instruction(t *testing.T, file, data, prefix string) string {
	t.Helper()
	var cmd strings.Builder
	for _, line := range strings.Split(data, "\n") {
		text, ok := strings.CutPrefix(line, "#   ")
		if !ok {
			if cmd.Len() > 0 {
				break
			}
			continue
		}
		if cmd.Len() == 0 && !strings.HasPrefix(strings.TrimSpace(text), prefix) {
			continue
		}
		cont := strings.HasSuffix(text, "\\")
		cmd.WriteString(strings.TrimSpace(strings.TrimSuffix(text, "\\")) + " ")
		if !cont {
			return cmd.String()
		}
	}
	if cmd.Len() == 0 {
		t.Fatalf("%s: no instruction starting with %q in its header:\n%s", file, prefix, data)
	}
	return cmd.String()
}

// TestGenInstructionsNameEveryVariable generates every kind of file for an
// app that declares two required variables of its own, one of them secret,
// and checks that each instruction an operator copies names every required
// and every secret variable, with SECRET_KEY_BASE from gen-secret.
func TestGenInstructionsNameEveryVariable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, kind := range []string{"docker", "systemd", "k8s"} {
		mustRelkit(t, "gen", kind, "-o", dir, notesPkg)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	dockerfile, service, k8s := read("Dockerfile"), read("notes.service"), read("notes.yaml")

	run := instruction(t, "Dockerfile", dockerfile, "docker run --rm -p")
	kubectlSecret := instruction(t, "notes.yaml", k8s, "kubectl create secret")
	kubectlConfig := instruction(t, "notes.yaml", k8s, "kubectl create configmap")
	var envFile []string
	for _, line := range strings.Split(service, "\n") {
		if text, ok := strings.CutPrefix(line, "#   echo "); ok {
			envFile = append(envFile, text)
		}
	}
	for _, v := range notesVariables {
		if !strings.Contains(run, "-e "+v+"=") {
			t.Errorf("Dockerfile: the docker run line does not pass %s:\n%s", v, run)
		}
		if !strings.Contains(kubectlSecret+kubectlConfig, "--from-literal="+v+"=") {
			t.Errorf("notes.yaml: neither kubectl create secret nor configmap sets %s:\n%s\n%s", v, kubectlSecret, kubectlConfig)
		}
		found := false
		for _, l := range envFile {
			found = found || strings.HasPrefix(l, v+"=")
		}
		if !found {
			t.Errorf("notes.service: the install instructions write no %s into the environment file:\n%s", v, strings.Join(envFile, "\n"))
		}
	}
	if !strings.Contains(kubectlSecret, "--from-literal=NOTES_API_TOKEN=") {
		t.Errorf("notes.yaml: the secret NOTES_API_TOKEN belongs in the Secret: %s", kubectlSecret)
	}
	if !strings.Contains(kubectlConfig, "--from-literal=NOTES_ADMIN_EMAIL=") {
		t.Errorf("notes.yaml: the required setting NOTES_ADMIN_EMAIL belongs in the ConfigMap: %s", kubectlConfig)
	}
	for what, cmd := range map[string]string{"docker run": run, "kubectl create secret": kubectlSecret, "environment file": strings.Join(envFile, "\n")} {
		if !strings.Contains(cmd, "SECRET_KEY_BASE=\"$(") || !strings.Contains(cmd, "gen-secret)\"") {
			t.Errorf("%s: want SECRET_KEY_BASE from gen-secret, got:\n%s", what, cmd)
		}
	}
}

// newcomerModule writes a module outside this repository, as a newcomer's
// app is today: its go.mod replaces github.com/relkit/relkit with this
// checkout, a directory outside the app's Docker build context.
func newcomerModule(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(moduleRoot, "cmd", "relkit", "testdata", "notes", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"main.go":                       string(src),
		"go.mod":                        "module example.com/notes\n\ngo 1.26.0\n\nrequire github.com/relkit/relkit v0.0.0\n\ntool github.com/relkit/relkit/cmd/relkit\n\nreplace github.com/relkit/relkit => " + moduleRoot + "\n",
		"migrations/001_notes.up.sql":   "CREATE TABLE notes (id serial PRIMARY KEY);\n",
		"migrations/001_notes.down.sql": "DROP TABLE notes;\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goCmd(t, dir, "mod", "tidy")
	return dir
}

func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

// TestGenDockerWithLocalReplace: a Dockerfile whose build stage runs
// `go mod download` on go.mod and go.sum alone cannot build an app whose
// go.mod replaces a module with a directory outside the context. gen docker
// refuses with what to do, and after go mod vendor writes a Dockerfile that
// builds from vendor/, whose build command then works.
func TestGenDockerWithLocalReplace(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end: probes and vendors an app with the go command; skipped with -short")
	}
	app := newcomerModule(t)
	out := t.TempDir()
	var stdout, stderr strings.Builder
	code := run(t.Context(), app, []string{"gen", "docker", "-o", out, "."}, testEnv(), strings.NewReader(""), &stdout, &stderr)
	if code != exitFailure || !strings.Contains(stderr.String(), "replaces github.com/relkit/relkit => "+moduleRoot) ||
		!strings.Contains(stderr.String(), "go mod vendor") || !strings.Contains(stderr.String(), "relkit build -image") {
		t.Fatalf("gen docker with a replace outside the context: want exit 1 naming the replace, go mod vendor and relkit build -image; got %d:\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, "Dockerfile")); err == nil {
		t.Fatal("gen docker wrote a Dockerfile although it refused")
	}

	goCmd(t, app, "mod", "vendor")
	stdout.Reset()
	stderr.Reset()
	if code := run(t.Context(), app, []string{"gen", "docker", "-o", out, "."}, testEnv(), strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("gen docker after go mod vendor: want exit 0, got %d:\n%s", code, stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(out, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var env, build string
	for _, in := range parseDockerfile(t, string(data)) {
		switch {
		case in.stage == 0 && in.cmd == "RUN" && strings.Contains(in.args, "go mod download"):
			t.Errorf("the vendored build still downloads modules: RUN %s", in.args)
		case in.stage == 0 && in.cmd == "ENV":
			env = in.args
		case in.stage == 0 && in.cmd == "RUN" && strings.Contains(in.args, "cmd/relkit build"):
			build = in.args
		}
	}
	if env != "GOFLAGS=-mod=vendor GOWORK=off" {
		t.Fatalf("build stage ENV: want GOFLAGS=-mod=vendor GOWORK=off, got %q", env)
	}
	// The build stage's command, run the way the builder runs it: from
	// vendor/ alone, with no module cache and no network.
	_, cmdline, _ := strings.Cut(build, "go run ")
	cmdline = strings.ReplaceAll(cmdline, `${VERSION:+-version "$VERSION"} `, "")
	rel := t.TempDir()
	args := strings.Fields(strings.ReplaceAll(cmdline, "/out", rel))
	cmd := exec.Command("go", append([]string{"run"}, args...)...)
	cmd.Dir = app
	cache := t.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=vendor", "GOWORK=off", "GOPROXY=off", "GOMODCACHE="+cache, "SOURCE_DATE_EPOCH="+sourceDateEpoch)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build stage: go run %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	if _, err := os.Stat(filepath.Join(rel, "notes", "bin", "notes")); err != nil {
		t.Fatalf("the vendored build assembled no release: %v", err)
	}
}
