package release

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/relkit/relkit/internal/envfile"
	"github.com/relkit/relkit/internal/layout"
	"github.com/relkit/relkit/runtimeconfig"
)

// EnvFileVar names the environment file a release reads at every boot,
// instead of releases/VSN/env. A relative path is taken from the release
// root.
const EnvFileVar = "RELEASE_ENV_FILE"

// envFileName is the environment file a release reads from its own
// directory, releases/VSN/env, when RELEASE_ENV_FILE is unset.
const envFileName = "env"

// loadEnvFile returns the process environment with the release's
// environment file beneath it: RELEASE_ENV_FILE when set (it must exist),
// else releases/VSN/env of the running binary's own release when it
// exists. The process environment wins over the file. The file is read at
// every run, so a new release (an upgrade) reads its own file afresh. On
// error the process environment is returned with a
// *runtimeconfig.Error, which the commands that load configuration report.
func loadEnvFile(proc map[string]string) (map[string]string, string, error) {
	path, required := proc[EnvFileVar], true
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return proc, "", nil
		}
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		if _, ok := layout.RootOf(exe); !ok {
			return proc, "", nil // a development build: no release directory
		}
		path, required = filepath.Join(filepath.Dir(exe), envFileName), false
	} else if !filepath.IsAbs(path) {
		exe, _ := os.Executable()
		cwd, _ := os.Getwd()
		l, err := layout.Resolve(exe, cwd, proc)
		if err != nil {
			return proc, "", envFileError(EnvFileVar, err.Error())
		}
		path = filepath.Join(l.Root, path)
	}
	vars, err := envfile.Read(path)
	var fe *envfile.Error
	switch {
	case errors.Is(err, fs.ErrNotExist) && !required:
		return proc, "", nil
	case errors.Is(err, fs.ErrNotExist):
		return proc, path, envFileError(EnvFileVar, fmt.Sprintf("names %s, which does not exist; create it or unset %s", path, EnvFileVar))
	case errors.As(err, &fe):
		problems := make([]runtimeconfig.Problem, len(fe.Lines))
		for i, l := range fe.Lines {
			where := fmt.Sprintf("%s line %d", path, l.Line)
			if l.Key != "" {
				where += " (" + l.Key + ")"
			}
			problems[i] = runtimeconfig.Problem{Var: where, Message: l.Reason}
		}
		return proc, path, &runtimeconfig.Error{Problems: problems}
	case err != nil:
		return proc, path, envFileError(path, err.Error())
	}
	var problems []runtimeconfig.Problem
	for _, k := range sortedKeys(vars) {
		if reason := reservedVar(k); reason != "" {
			problems = append(problems, runtimeconfig.Problem{Var: path + " (" + k + ")", Message: reason})
		}
	}
	if len(problems) > 0 {
		return proc, path, &runtimeconfig.Error{Problems: problems}
	}
	return envfile.Merge(proc, vars), path, nil
}

// reservedVar says why k may not be set in an environment file, or "".
func reservedVar(k string) string {
	switch {
	case k == "NOTIFY_SOCKET" || strings.HasPrefix(k, "LISTEN_") || strings.HasPrefix(k, "RELKIT_"):
		return "set by the process manager (systemd or relkit's supervisor); remove it from the file"
	case k == EnvFileVar:
		return "an environment file cannot name another one; set " + EnvFileVar + " in the process environment"
	case k == "RELEASE_ROOT" || k == "RELEASE_TMP" || k == "RELEASE_LOG_DIR":
		return "where the running system keeps its sockets and logs must not change from one release to the next; set it in the process environment instead"
	}
	return ""
}

func envFileError(where, msg string) error {
	return &runtimeconfig.Error{Problems: []runtimeconfig.Problem{{Var: where, Message: msg}}}
}
