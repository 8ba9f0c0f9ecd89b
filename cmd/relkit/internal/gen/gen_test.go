package gen

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidation(t *testing.T) {
	t.Parallel()
	ok := App{Name: "links", Version: "1.0.0"}
	tests := []struct {
		name string
		gen  func() ([]File, error)
		want string
	}{
		{"empty name", func() ([]File, error) { return Systemd(App{Version: "1"}, SystemdOptions{}) }, `release name ""`},
		{"name with slash", func() ([]File, error) { return Docker(App{Name: "a/b", Version: "1"}, DockerOptions{}) }, `release name "a/b"`},
		{"version with space", func() ([]File, error) { return Docker(App{Name: "a", Version: "1 0"}, DockerOptions{}) }, `version "1 0"`},
		{"port out of range", func() ([]File, error) { return Systemd(App{Name: "a", Version: "1", Port: 70000}, SystemdOptions{}) }, "port 70000"},
		{"secret name", func() ([]File, error) {
			return Kubernetes(App{Name: "a", Version: "1", Variables: []Variable{{Name: "BAD-NAME", Secret: true}}}, KubernetesOptions{})
		}, `variable "BAD-NAME"`},
		{"relative root", func() ([]File, error) { return Systemd(ok, SystemdOptions{Root: "opt/links"}) }, `root "opt/links"`},
		{"root with space", func() ([]File, error) { return Systemd(ok, SystemdOptions{Root: "/opt/my links"}) }, "root"},
		{"user", func() ([]File, error) { return Systemd(ok, SystemdOptions{User: "Links App"}) }, `user or group "Links App"`},
		{"listen", func() ([]File, error) { return Systemd(ok, SystemdOptions{Socket: true, Listen: "localhost:80"}) }, "listen address"},
		{"root user in docker", func() ([]File, error) { return Docker(ok, DockerOptions{UID: -1}) }, "must not run as root"},
		{"package outside module", func() ([]File, error) { return Docker(ok, DockerOptions{Package: "../other"}) }, "package"},
		{"go version", func() ([]File, error) { return Docker(ok, DockerOptions{GoVersion: "latest; rm"}) }, "Go version"},
		{"k8s name", func() ([]File, error) { return Kubernetes(App{Name: "links_", Version: "1"}, KubernetesOptions{}) }, "not a DNS label"},
		{"k8s replicas", func() ([]File, error) { return Kubernetes(ok, KubernetesOptions{Replicas: -1}) }, "replicas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.gen()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want ErrInvalid mentioning %q, got %v", tt.want, err)
			}
		})
	}
}

func TestSystemdTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		app        App
		opts       SystemdOptions
		wantLines  []string
		forbidLine string
	}{
		{"defaults", App{Name: "links", Version: "1"}, SystemdOptions{},
			[]string{"TimeoutStopSec=40\n", "CapabilityBoundingSet=\n"}, "Requires=links.socket"},
		{"drain and margin", App{Name: "links", Version: "1", ShutdownTimeout: 90 * time.Second}, SystemdOptions{StopMargin: 3 * time.Second, DrainDelay: 5 * time.Second},
			[]string{"TimeoutStopSec=98\n", "echo DRAIN_DELAY=5s >> /etc/links/links.env"}, ""},
		{"an app that serves by default gets no Environment=", App{Name: "links", Version: "1", Server: true}, SystemdOptions{},
			[]string{"EnvironmentFile=-/etc/links/links.env\n"}, "Environment="},
		{"an app that does not serve by default gets SERVER=true alone", App{Name: "links", Version: "1"}, SystemdOptions{},
			[]string{"\nEnvironment=SERVER=true\n"}, "PORT="},
		{"privileged port without socket", App{Name: "links", Version: "1", Port: 80}, SystemdOptions{},
			[]string{"AmbientCapabilities=CAP_NET_BIND_SERVICE\n"}, "CapabilityBoundingSet=\n"},
		{"privileged port with socket", App{Name: "links", Version: "1", Port: 80}, SystemdOptions{Socket: true},
			[]string{"CapabilityBoundingSet=\n", "Requires=links.socket\n"}, "AmbientCapabilities"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files, err := Systemd(tt.app, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if files[0].Name != "links-migrate.service" || files[1].Name != "links.service" {
				t.Fatalf("want links-migrate.service and links.service first, got %s and %s", files[0].Name, files[1].Name)
			}
			service := string(files[1].Data)
			for _, w := range tt.wantLines {
				if !strings.Contains(service, w) {
					t.Errorf("want %q in:\n%s", w, service)
				}
			}
			if tt.forbidLine != "" && strings.Contains(service, tt.forbidLine) {
				t.Errorf("want no %q in:\n%s", tt.forbidLine, service)
			}
			if wantFiles := 2 + map[bool]int{true: 1}[tt.opts.Socket]; len(files) != wantFiles {
				t.Errorf("want %d files, got %d", wantFiles, len(files))
			}
		})
	}
}
