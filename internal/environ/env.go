package environ

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/relkit/relkit/internal/layout"
	"github.com/relkit/relkit/internal/relspec"
)

// Env is the environment of one process: the process environment it was
// started with and, beneath it, its release's environment file. Create it
// with [Load]; the zero value is an empty environment.
type Env struct {
	proc   map[string]string
	file   map[string]string // nil: no file, or a file with problems
	path   string            // the file read, "" when none
	err    error
	merged map[string]string
}

// Map turns a list of KEY=VALUE strings, as os.Environ returns it, into a
// map. Entries without '=' or with an empty key are dropped; of a key given
// twice the last wins.
func Map(list []string) map[string]string {
	m := make(map[string]string, len(list))
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "" {
			m[k] = v
		}
	}
	return m
}

// List turns env into KEY=VALUE strings, sorted by key.
func List(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// New returns the environment proc without an environment file.
func New(proc map[string]string) *Env {
	return &Env{proc: proc, merged: proc}
}

// Load returns the environment of a process of the release whose binary is
// exe (as os.Executable returns it), running in cwd with the process
// environment proc: proc over the release's environment file, when there
// is one (see [FilePath]). Problems with the file are kept, not returned:
// [Env.Err] reports them to the commands that load configuration, and the
// environment is then proc alone.
func Load(proc map[string]string, exe, cwd string) *Env {
	e := New(proc)
	path, required, err := FilePath(proc, exe, cwd)
	if err != nil {
		e.err = err
		return e
	}
	if path == "" {
		return e
	}
	file, err := readRelease(path, required)
	switch {
	case err != nil:
		e.path, e.err = path, err
	case file != nil:
		e.path, e.file = path, file
		e.merged = merge(proc, file)
	}
	return e
}

// FilePath returns the environment file of the release whose binary is exe
// and whether it must exist: the file RELEASE_ENV_FILE names in proc
// (required; a relative path is taken from the release root), else
// releases/VSN/env beside the binary of an assembled release (optional).
// A development build (go run, go build), whose binary is in no release
// directory, has none: path is "".
func FilePath(proc map[string]string, exe, cwd string) (path string, required bool, err error) {
	if p := proc[relspec.EnvEnvFile]; p != "" {
		if filepath.IsAbs(p) {
			return p, true, nil
		}
		l, err := layout.Resolve(exe, cwd, proc)
		if err != nil {
			return "", true, problem(relspec.EnvEnvFile, err.Error())
		}
		return filepath.Join(l.Root, p), true, nil
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	if _, ok := layout.RootOf(exe); !ok {
		return "", false, nil
	}
	return filepath.Join(filepath.Dir(exe), relspec.EnvFileName), false, nil
}

// ForRelease returns the environment a process running binary, the binary
// of an installed release, gets from a parent whose process environment is
// proc: binary's own environment file beneath proc, so that the process
// sees its release's settings in its real environment. When the file
// cannot be read, proc is returned as it is: the process reads the file
// itself and reports what is wrong with it.
func ForRelease(proc map[string]string, binary, cwd string) map[string]string {
	e := Load(proc, binary, cwd)
	if e.err != nil {
		return maps.Clone(proc)
	}
	return maps.Clone(e.merged)
}

// readRelease reads the environment file at path; a missing optional file
// gives nil, nil.
func readRelease(path string, required bool) (map[string]string, error) {
	vars, err := ReadFile(path)
	var fe *FileError
	switch {
	case errors.Is(err, fs.ErrNotExist) && !required:
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, problem(relspec.EnvEnvFile, fmt.Sprintf("names %s, which does not exist; create it or unset %s", path, relspec.EnvEnvFile))
	case errors.As(err, &fe):
		pe := &Error{}
		for _, l := range fe.Lines {
			where := fmt.Sprintf("%s line %d", path, l.Line)
			if l.Key != "" {
				where += " (" + l.Key + ")"
			}
			pe.Problems = append(pe.Problems, Problem{Where: where, Message: l.Reason})
		}
		return nil, pe
	case err != nil:
		return nil, problem(path, err.Error())
	}
	pe := &Error{}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if reason := Reserved(k); reason != "" {
			pe.Problems = append(pe.Problems, Problem{Where: path + " (" + k + ")", Message: reason})
		}
	}
	if len(pe.Problems) > 0 {
		return nil, pe
	}
	return vars, nil
}

// Reserved says why variable k may not be set in an environment file, or
// "" when it may.
func Reserved(k string) string {
	switch {
	case k == relspec.EnvNotifySocket || strings.HasPrefix(k, "LISTEN_") || strings.HasPrefix(k, relspec.RelkitPrefix):
		return "set by the process manager (systemd or relkit's supervisor); remove it from the file"
	case k == relspec.EnvEnvFile:
		return "an environment file cannot name another one; set " + relspec.EnvEnvFile + " in the process environment"
	case k == relspec.EnvRoot || k == relspec.EnvTmp || k == relspec.EnvLogDir:
		return "where the running system keeps its sockets and logs must not change from one release to the next; set it in the process environment instead"
	}
	return ""
}

// merge returns file with proc on top.
func merge(proc, file map[string]string) map[string]string {
	out := make(map[string]string, len(proc)+len(file))
	maps.Copy(out, file)
	maps.Copy(out, proc)
	return out
}

// Map returns the environment configuration is loaded from: the
// environment file beneath the process environment. The map must not be
// changed.
func (e *Env) Map() map[string]string {
	if e == nil || e.merged == nil {
		return map[string]string{}
	}
	return e.merged
}

// Get returns the value of k in [Env.Map].
func (e *Env) Get(k string) string { return e.Map()[k] }

// Lookup returns the value of k in [Env.Map] and whether it is set.
func (e *Env) Lookup(k string) (string, bool) {
	v, ok := e.Map()[k]
	return v, ok
}

// ForChild returns the environment a process this one starts inherits:
// the process environment only, never this release's file, so that a
// child running another release reads that release's file. The map is a
// copy.
func (e *Env) ForChild() map[string]string {
	if e == nil {
		return map[string]string{}
	}
	return maps.Clone(e.proc)
}

// File returns the environment file that was read, "" when none was.
func (e *Env) File() string {
	if e == nil {
		return ""
	}
	return e.path
}

// FromFile reports whether k's value in [Env.Map] comes from the
// environment file.
func (e *Env) FromFile(k string) bool {
	if e == nil {
		return false
	}
	_, inProc := e.proc[k]
	_, inFile := e.file[k]
	return inFile && !inProc
}

// Unapplied returns the variables the environment file adds to the
// process environment: what a process must add to its real environment
// (by re-executing itself) for the Go runtime and libraries to see them.
// Nil when there are none.
func (e *Env) Unapplied() map[string]string {
	if e == nil {
		return nil
	}
	var out map[string]string
	for k, v := range e.file {
		if _, ok := e.proc[k]; !ok {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// Err reports what is wrong with the environment file: an [*Error], nil
// when nothing is.
func (e *Env) Err() error {
	if e == nil {
		return nil
	}
	return e.err
}
