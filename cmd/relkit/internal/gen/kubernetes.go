package gen

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// KubernetesOptions configure [Kubernetes]. The zero value is usable.
type KubernetesOptions struct {
	// Image is the container image built from the Dockerfile of [Docker].
	// Default NAME:VSN (lower case, '+' in the version as '_').
	Image string
	// Replicas is the Deployment's replica count. Default 2.
	Replicas int
	// SecretName is the Secret holding the secret variables. Default
	// NAME-secrets.
	SecretName string
	// PreStop is the preStop sleep before SIGTERM, which gives endpoint
	// controllers and load balancers time to stop sending traffic. It
	// uses the sleep action (Kubernetes 1.30 or later), since the image
	// has no shell. Default 5s.
	PreStop time.Duration
	// GraceMargin is added to the grace period so the kubelet never kills
	// a pod that is still shutting down in time. Default 5s.
	GraceMargin time.Duration
}

// Defaults of [KubernetesOptions].
const (
	DefaultReplicas    = 2
	DefaultPreStop     = 5 * time.Second
	DefaultGraceMargin = 5 * time.Second
)

var imageRE = regexp.MustCompile(`^[a-z0-9]+([._/:@-][A-Za-z0-9_]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$`)

// Kubernetes returns NAME.yaml with a ConfigMap NAME-defaults (PORT,
// DRAIN_DELAY, SHUTDOWN_TIMEOUT), a Deployment, a Service and, for an app
// with migrations, a Job running `migrate`, separated by "---". Defaults
// come through envFrom, NAME-defaults first and the operator's ConfigMap
// NAME-config last, so NAME-config overrides them (env: would beat both);
// NAME-config is required when the app has required settings that are not
// secret. The header's kubectl commands create the Secret with every secret
// variable (SECRET_KEY_BASE from the image's gen-secret) and NAME-config
// with every required setting. Containers name the binary in command:, so
// any entrypoint of the image works. The Deployment probes /healthz
// (liveness) and /readyz (readiness), sleeps in preStop, and gives pods
// terminationGracePeriodSeconds = preStop + DRAIN_DELAY + SHUTDOWN_TIMEOUT
// + margin. Secret variables come from a Secret (optional references for
// variables the app does not require); the Job gets DATABASE_URL alone. Pods run as uid 65534 with a
// read-only root file system; tmp/ and log/ are emptyDir volumes.
//
// The Job is named NAME-migrate-VSN, so each release's migration runs once:
// apply it and wait for it before applying the Deployment.
func Kubernetes(app App, opts KubernetesOptions) ([]File, error) {
	app, err := app.withDefaults()
	if err != nil {
		return nil, err
	}
	name, err := dnsName(app.Name)
	if err != nil {
		return nil, err
	}
	var errs []string
	tag := imageTag(app.Version)
	if opts.Image == "" {
		opts.Image = name + ":" + tag
	} else if !imageRE.MatchString(opts.Image) {
		errs = append(errs, fmt.Sprintf("image %q: want REPOSITORY[:TAG], e.g. registry.example.com/%s:%s", opts.Image, name, tag))
	}
	if opts.Replicas == 0 {
		opts.Replicas = DefaultReplicas
	}
	if opts.Replicas < 0 {
		errs = append(errs, fmt.Sprintf("replicas %d: want 1 or more", opts.Replicas))
	}
	if opts.SecretName == "" {
		opts.SecretName = name + "-secrets"
	} else if len(opts.SecretName) > 253 || !dnsLabelRE.MatchString(strings.ReplaceAll(opts.SecretName, ".", "-")) {
		errs = append(errs, fmt.Sprintf("secret name %q: want a DNS name (lower-case letters, digits, '-', '.')", opts.SecretName))
	}
	if opts.PreStop == 0 {
		opts.PreStop = DefaultPreStop
	}
	if opts.GraceMargin == 0 {
		opts.GraceMargin = DefaultGraceMargin
	}
	if opts.PreStop < 0 || opts.GraceMargin < 0 {
		errs = append(errs, "preStop and grace margin must not be negative")
	}
	// Kubernetes label values: at most 63, alphanumeric at both ends.
	versionLabel := tag
	if len(versionLabel) > 63 || !regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$`).MatchString(versionLabel) {
		errs = append(errs, fmt.Sprintf("version %q cannot be a Kubernetes label value (at most 63, letters or digits at both ends)", app.Version))
	}
	job := name + "-migrate-" + strings.NewReplacer(".", "-", "_", "-", "+", "-").Replace(strings.ToLower(app.Version))
	job = strings.TrimRight(job, "-")
	if len(job) > 63 || !dnsLabelRE.MatchString(job) {
		errs = append(errs, fmt.Sprintf("migration job name %q is not a DNS label of at most 63 characters: shorten the release name or version", job))
	}
	if len(errs) > 0 {
		return nil, invalid(errs)
	}
	grace := opts.PreStop + app.DrainDelay + app.ShutdownTimeout + opts.GraceMargin
	if !app.Migrations {
		job = ""
	}
	var dbURL *Variable
	if v, ok := app.secret("DATABASE_URL"); ok {
		dbURL = &v
	}
	data := map[string]any{
		"App": app, "Opts": opts, "Name": name, "VersionLabel": versionLabel, "Job": job,
		"DatabaseURL": dbURL, "ConfigOptional": len(app.Settings()) == 0,
		"Root": ImageRoot, "UID": DefaultUID,
		"ShutdownTimeout": duration(app.ShutdownTimeout), "DrainDelay": duration(app.DrainDelay),
		"Grace": grace,
	}
	manifests, err := render("kubernetes.tmpl", data)
	if err != nil {
		return nil, err
	}
	return []File{{Name: name + ".yaml", Data: manifests}}, nil
}
