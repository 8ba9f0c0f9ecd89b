package k8scheck

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/relkit/relkit/cmd/relkit/internal/gen"
)

type objects struct {
	config     corev1.ConfigMap
	deployment appsv1.Deployment
	service    corev1.Service
	job        batchv1.Job
}

// decode splits the generated file into documents and decodes each one
// strictly into the type its kind names.
func decode(t *testing.T, data []byte, wantJob bool) objects {
	t.Helper()
	var o objects
	seen := map[string]int{}
	for i, doc := range strings.Split(string(data), "\n---\n") {
		var meta struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var target any
		switch meta.Kind {
		case "ConfigMap":
			target = &o.config
		case "Deployment":
			target = &o.deployment
		case "Service":
			target = &o.service
		case "Job":
			target = &o.job
		default:
			t.Fatalf("document %d: unexpected kind %q", i, meta.Kind)
		}
		seen[meta.Kind]++
		if err := yaml.UnmarshalStrict([]byte(doc), target); err != nil {
			t.Fatalf("%s does not decode strictly into the Kubernetes API type: %v\n%s", meta.Kind, err, doc)
		}
	}
	for _, k := range []string{"ConfigMap", "Deployment", "Service", "Job"} {
		want := 1
		if k == "Job" && !wantJob {
			want = 0
		}
		if seen[k] != want {
			t.Fatalf("want %d %s, got %d", want, k, seen[k])
		}
	}
	return o
}

func TestManifestsDecodeIntoKubernetesTypes(t *testing.T) {
	tests := []struct {
		name      string
		app       gen.App
		opts      gen.KubernetesOptions
		wantName  string
		wantJob   string
		wantImage string
		wantGrace int64
	}{
		{"defaults", gen.App{Name: "hello", Version: "0.1.0", Migrations: true}, gen.KubernetesOptions{},
			"hello", "hello-migrate-0-1-0", "hello:0.1.0", 5 + 0 + 30 + 5},
		{"secrets, drain delay, custom image", gen.App{
			Name: "my_app", Version: "1.2.0+build.7", Port: 8080, DrainDelay: 10 * time.Second, ShutdownTimeout: 20 * time.Second, Migrations: true,
			Variables: []gen.Variable{{Name: "SECRET_KEY_BASE", Required: true, Secret: true, Generate: true}, {Name: "DATABASE_URL", Secret: true},
				{Name: "API_TOKEN", Required: true, Secret: true}, {Name: "ADMIN_EMAIL", Required: true}},
		}, gen.KubernetesOptions{Image: "registry.example.com/team/my-app:1.2.0", Replicas: 3, PreStop: 3 * time.Second},
			"my-app", "my-app-migrate-1-2-0-build-7", "registry.example.com/team/my-app:1.2.0", 3 + 10 + 20 + 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := gen.Kubernetes(tt.app, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 1 || files[0].Name != tt.wantName+".yaml" {
				t.Fatalf("files: want one %s.yaml, got %d", tt.wantName, len(files))
			}
			o := decode(t, files[0].Data, true)

			d := o.deployment
			if d.Name != tt.wantName || len(validation.IsDNS1123Label(d.Name)) > 0 {
				t.Errorf("Deployment name: want DNS label %q, got %q", tt.wantName, d.Name)
			}
			for k, v := range d.Spec.Template.Labels {
				if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
					t.Errorf("label %s=%q: %v", k, v, errs)
				}
			}
			for k, v := range d.Spec.Selector.MatchLabels {
				if d.Spec.Template.Labels[k] != v {
					t.Errorf("selector %s=%s does not match the pod template's labels %v", k, v, d.Spec.Template.Labels)
				}
			}
			pod := d.Spec.Template.Spec
			if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds != tt.wantGrace {
				t.Errorf("terminationGracePeriodSeconds: want %d (preStop + DRAIN_DELAY + SHUTDOWN_TIMEOUT + margin), got %v", tt.wantGrace, pod.TerminationGracePeriodSeconds)
			}
			if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65534 {
				t.Errorf("pod securityContext: want runAsNonRoot and uid 65534, got %+v", sc)
			}
			if len(pod.Containers) != 1 {
				t.Fatalf("want one container, got %d", len(pod.Containers))
			}
			c := pod.Containers[0]
			if c.Image != tt.wantImage || strings.Join(c.Command, " ") != "/app/bin/"+tt.app.Name || strings.Join(c.Args, " ") != "start" {
				t.Errorf("container: want image %s running start, got %s %v", tt.wantImage, c.Image, c.Args)
			}
			port := tt.app.Port
			if port == 0 {
				port = gen.DefaultPort
			}
			if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != int32(port) {
				t.Errorf("ports: want http %d, got %+v", port, c.Ports)
			}
			if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.String() != "http" {
				t.Errorf("livenessProbe: want GET /healthz on http, got %+v", p)
			}
			if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
				t.Errorf("readinessProbe: want GET /readyz, got %+v", p)
			}
			preStop := tt.opts.PreStop
			if preStop == 0 {
				preStop = gen.DefaultPreStop
			}
			if l := c.Lifecycle; l == nil || l.PreStop == nil || l.PreStop.Sleep == nil || l.PreStop.Sleep.Seconds != int64(preStop/time.Second) {
				t.Errorf("preStop: want sleep %v, got %+v", preStop, l)
			}
			if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("container securityContext: want read-only root, no privilege escalation, got %+v", sc)
			}
			mounts := map[string]bool{}
			for _, m := range c.VolumeMounts {
				mounts[m.MountPath] = true
			}
			if !mounts["/app/tmp"] || !mounts["/app/log"] {
				t.Errorf("volume mounts: want /app/tmp and /app/log writable, got %v", c.VolumeMounts)
			}
			checkEnv(t, "Deployment", c, o.config, tt.app, "true", tt.app.Secrets())
			settingsRequired := len(tt.app.Settings()) > 0
			checkEnvFrom(t, "Deployment", c, tt.wantName, settingsRequired)

			s := o.service
			if s.Spec.Selector["app.kubernetes.io/name"] != tt.wantName || len(s.Spec.Ports) != 1 || s.Spec.Ports[0].TargetPort.String() != "http" {
				t.Errorf("Service: want selector on %s and targetPort http, got %+v", tt.wantName, s.Spec)
			}

			j := o.job
			if j.Name != tt.wantJob || len(validation.IsDNS1123Label(j.Name)) > 0 {
				t.Errorf("Job name: want DNS label %q, got %q", tt.wantJob, j.Name)
			}
			jp := j.Spec.Template.Spec
			if jp.RestartPolicy != corev1.RestartPolicyNever || len(jp.Containers) != 1 {
				t.Fatalf("Job: want restartPolicy Never and one container, got %s, %d", jp.RestartPolicy, len(jp.Containers))
			}
			if jc := jp.Containers[0]; jc.Image != tt.wantImage || strings.Join(jc.Command, " ") != "/app/bin/"+tt.app.Name || strings.Join(jc.Args, " ") != "migrate" {
				t.Errorf("Job container: want %s migrate, got %s %v", tt.wantImage, jc.Image, jc.Args)
			}
			var dbOnly []gen.Variable
			for _, v := range tt.app.Secrets() {
				if v.Name == "DATABASE_URL" {
					dbOnly = append(dbOnly, v)
				}
			}
			checkEnv(t, "Job", jp.Containers[0], o.config, tt.app, "false", dbOnly)
			checkEnvFrom(t, "Job", jp.Containers[0], tt.wantName, false)
		})
	}
}

// checkEnv checks SERVER, that the durations come from the defaults
// ConfigMap through envFrom (so the operator's ConfigMap can override them:
// env: would win over every envFrom source), and that exactly the wanted
// secrets come from the Secret, optional unless the app requires them.
func checkEnv(t *testing.T, what string, c corev1.Container, defaults corev1.ConfigMap, app gen.App, server string, secrets []gen.Variable) {
	t.Helper()
	byName := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		byName[e.Name] = e
	}
	if byName["SERVER"].Value != server {
		t.Errorf("%s: want SERVER=%s, got %q", what, server, byName["SERVER"].Value)
	}
	for _, k := range []string{"PORT", "DRAIN_DELAY", "SHUTDOWN_TIMEOUT"} {
		if _, ok := byName[k]; ok {
			t.Errorf("%s: %s is set in env:, where no ConfigMap can override it; want it in the defaults ConfigMap", what, k)
		}
	}
	shutdown := app.ShutdownTimeout
	if shutdown == 0 {
		shutdown = gen.DefaultShutdownTimeout
	}
	if d, err := time.ParseDuration(defaults.Data["SHUTDOWN_TIMEOUT"]); err != nil || d != shutdown {
		t.Errorf("ConfigMap %s: want SHUTDOWN_TIMEOUT %v, got %q", defaults.Name, shutdown, defaults.Data["SHUTDOWN_TIMEOUT"])
	}
	if d, err := time.ParseDuration(defaults.Data["DRAIN_DELAY"]); err != nil || d != app.DrainDelay {
		t.Errorf("ConfigMap %s: want DRAIN_DELAY %v, got %q", defaults.Name, app.DrainDelay, defaults.Data["DRAIN_DELAY"])
	}
	fromSecret := 0
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			fromSecret++
		}
	}
	if fromSecret != len(secrets) {
		t.Errorf("%s: want %d variables from the Secret, got %d: %+v", what, len(secrets), fromSecret, c.Env)
	}
	for _, s := range secrets {
		e, ok := byName[s.Name]
		if !ok || e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s: want %s from a Secret, got %+v", what, s.Name, e)
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		if ref.Key != s.Name || ref.Optional == nil || *ref.Optional == s.Required {
			t.Errorf("%s: %s: want key %s, optional=%v, got %+v", what, s.Name, s.Name, !s.Required, ref)
		}
	}
}

// checkEnvFrom checks the order of the ConfigMaps: the generated defaults
// first, the operator's NAME-config last (the last source wins).
func checkEnvFrom(t *testing.T, what string, c corev1.Container, name string, configRequired bool) {
	t.Helper()
	if len(c.EnvFrom) != 2 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[1].ConfigMapRef == nil {
		t.Fatalf("%s: want envFrom with two ConfigMaps, got %+v", what, c.EnvFrom)
	}
	first, last := c.EnvFrom[0].ConfigMapRef, c.EnvFrom[1].ConfigMapRef
	if first.Name != name+"-defaults" || last.Name != name+"-config" {
		t.Errorf("%s: want envFrom %s-defaults then %s-config, got %s then %s", what, name, name, first.Name, last.Name)
	}
	if last.Optional == nil || *last.Optional == configRequired {
		t.Errorf("%s: %s-config: want optional=%v, got %v", what, name, !configRequired, last.Optional)
	}
}

func TestNoJobWithoutMigrations(t *testing.T) {
	files, err := gen.Kubernetes(gen.App{Name: "hello", Version: "0.1.0"}, gen.KubernetesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	decode(t, files[0].Data, false)
	if strings.Contains(string(files[0].Data), "kubectl wait") {
		t.Errorf("without migrations the instructions wait for no Job:\n%s", files[0].Data)
	}
}

func TestInvalidInputsAreRefused(t *testing.T) {
	tests := []struct {
		name string
		app  gen.App
		opts gen.KubernetesOptions
		want string
	}{
		{"name not a DNS label", gen.App{Name: "Über", Version: "1"}, gen.KubernetesOptions{}, "release name"},
		{"version too long for a label", gen.App{Name: "a", Version: strings.Repeat("1", 64)}, gen.KubernetesOptions{}, "label value"},
		{"bad image", gen.App{Name: "a", Version: "1"}, gen.KubernetesOptions{Image: "UPPER CASE"}, "image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gen.Kubernetes(tt.app, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error about %s, got %v", tt.want, err)
			}
		})
	}
}
