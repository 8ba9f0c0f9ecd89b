package gotool

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/manifest"
)

// InfoCommand is the hidden command every relkit app answers with its
// [AppInfo] as JSON.
const InfoCommand = "relkit-info"

// AppInfo is what a built relkit app says about itself.
type AppInfo struct {
	// Name is the app's release name (release.App.Name).
	Name string `json:"name"`
	// Version is the version the binary reports: the injected one, else
	// the one the app declares.
	Version string `json:"version"`
	// Server is the app's code default for running the HTTP server.
	Server bool `json:"server"`
	// Port is the app's default HTTP port; 0 when it does not say.
	Port int `json:"port,omitempty"`
	// Variables are the environment variables the app reads.
	Variables []Variable `json:"variables"`
	// Migrations are the embedded SQL migrations with their checksums.
	Migrations []manifest.Migration `json:"migrations"`
}

// Variable is one environment variable the app reads.
type Variable struct {
	// Name is the variable's name, e.g. "DATABASE_URL".
	Name string `json:"name"`
	// Secret marks values that must never be shown.
	Secret bool `json:"secret"`
	// Required marks variables without which the app refuses to boot.
	Required bool `json:"required"`
	// Default is the code default; empty for secrets and for none.
	Default string `json:"default,omitempty"`
	// Generate marks a secret whose value the app's gen-secret command
	// makes. Apps whose relkit-info reports it set it; relkit gen treats
	// SECRET_KEY_BASE so in any case.
	Generate bool `json:"generate,omitempty"`
}

// QueryApp runs the host binary at path with [InfoCommand] and decodes its
// answer. The binary runs with the toolchain's environment, bounded by a
// 30-second timeout.
func (t *Toolchain) QueryApp(ctx context.Context, path string) (*AppInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, InfoCommand)
	cmd.Env = environ(t.Env, nil)
	cmd.Dir = t.Dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: running `%s %s` failed (%v): %s", ErrNotRelkitApp, path, InfoCommand, err, firstLine(stderr.String()))
	}
	var info AppInfo
	if err := json.Unmarshal(out, &info); err != nil || info.Name == "" {
		return nil, fmt.Errorf("%w: `%s %s` did not print the app's name as JSON", ErrNotRelkitApp, path, InfoCommand)
	}
	return &info, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "no output on stderr"
	}
	return s
}
