package runtimeconfig

import (
	"encoding"
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v10"
)

// Options tunes [Load]. The zero value reads files with os.ReadFile and has
// no code-level defaults.
type Options struct {
	// Defaults are code-level defaults, used when a variable is neither set
	// nor given through NAME_FILE. They override envDefault tags.
	Defaults map[string]string

	// ReadFile reads the files named by NAME_FILE variables.
	// Default os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// Source says where a variable's value came from.
type Source string

// Sources of a value.
const (
	SourceEnv     Source = "env"     // the variable itself
	SourceFile    Source = "file"    // the file named by NAME_FILE
	SourceDefault Source = "default" // the code's default
	SourceUnset   Source = "unset"   // nowhere: the field keeps its zero value
)

// Var describes one variable the configuration reads.
type Var struct {
	// Name is the environment variable.
	Name string
	// Description is the field's desc tag.
	Description string
	// Default is the default value, when HasDefault.
	Default    string
	HasDefault bool
	// Required reports whether the variable must be set.
	Required bool
	// Secret reports whether the value is redacted.
	Secret bool
	// Source says where the value came from.
	Source Source
	// Value is the value in effect, redacted when Secret by [Redact]:
	// "***" for a secret; for a secret URL, the URL with "***" for its
	// password and credential parameters and without its fragment, or
	// "***" whole when it is not a URL (see [RedactURL]).
	Value string
}

type secrecy int

const (
	public secrecy = iota
	secretValue
	secretURL
)

type field struct {
	key      string
	desc     string
	def      string
	hasDef   bool
	required bool
	secret   secrecy
	typ      reflect.Type
}

// Load fills dst, a pointer to a configuration struct, from env and
// returns a description of every variable read, even when loading fails.
// A failure is an *[Error] naming every variable at fault. environ maps
// variable names to values, e.g. from env.ToMap(os.Environ()) in main.
func Load(dst any, environ map[string]string, opts Options) ([]Var, error) {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, ErrNotStructPointer
	}
	fields, err := fieldsOf(rv.Elem().Type(), "")
	if err != nil {
		return nil, err
	}
	readFile := opts.ReadFile
	if readFile == nil {
		readFile = os.ReadFile
	}

	var problems []Problem
	effective := make(map[string]string, len(environ))
	for k, v := range environ {
		effective[k] = v
	}
	vars := make([]Var, len(fields))
	for i, f := range fields {
		v := Var{Name: f.key, Description: f.desc, Default: f.def, HasDefault: f.hasDef, Required: f.required, Secret: f.secret != public}
		if d, ok := opts.Defaults[f.key]; ok {
			v.Default, v.HasDefault = d, true
		}
		val, set := environ[f.key]
		path, fromFile := environ[f.key+"_FILE"]
		switch {
		case set && fromFile:
			problems = append(problems, Problem{Var: f.key, Message: fmt.Sprintf("both %s and %s_FILE are set; unset one of them", f.key, f.key)})
			v.Source = SourceEnv
		case set && val != "":
			v.Source = SourceEnv
		case fromFile:
			b, err := readFile(path)
			if err != nil {
				problems = append(problems, Problem{Var: f.key + "_FILE", Message: fmt.Sprintf("cannot read %s: %v", path, unwrapPathError(err))})
				delete(effective, f.key)
				v.Source = SourceFile
				break
			}
			val = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
			effective[f.key] = val
			v.Source = SourceFile
		case v.HasDefault:
			val = v.Default
			effective[f.key] = val
			v.Source = SourceDefault
		default:
			v.Source = SourceUnset
		}
		if v.Source != SourceUnset {
			v.Value = redact(val, f.secret)
		}
		vars[i] = v
	}

	if err := env.ParseWithOptions(dst, envOptions(effective)); err != nil {
		problems = append(problems, explain(err, rv.Elem().Type(), fields, effective)...)
	}
	problems = append(problems, unblamed(validateBases(rv.Elem()), problems)...)
	if len(problems) == 0 {
		if v, ok := dst.(Validator); ok {
			problems = append(problems, validationProblems(v.Validate())...)
		}
	}
	if len(problems) > 0 {
		scrub := scrubber(fields, effective)
		for i := range problems {
			problems[i].Message = scrub(problems[i].Message)
		}
		return vars, &Error{Problems: dedupe(problems)}
	}
	return vars, nil
}

func envOptions(environment map[string]string) env.Options {
	return env.Options{Environment: environment}
}

// fieldsOf lists the variables of struct type t, in declaration order,
// following caarlos0/env's rules for nested structs and envPrefix.
func fieldsOf(t reflect.Type, prefix string) ([]field, error) {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("env")
		key, optsPart, _ := strings.Cut(tag, ",")
		if key == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				nested, err := fieldsOf(ft, prefix+sf.Tag.Get("envPrefix"))
				if err != nil {
					return nil, err
				}
				out = append(out, nested...)
			}
			continue
		}
		f := field{key: prefix + key, desc: sf.Tag.Get("desc"), typ: sf.Type}
		f.def, f.hasDef = sf.Tag.Lookup("envDefault")
		for _, o := range strings.Split(optsPart, ",") {
			if o == "required" || o == "notEmpty" {
				f.required = true
			}
		}
		switch s := sf.Tag.Get("secret"); s {
		case "":
		case "true":
			f.secret = secretValue
		case "url":
			f.secret = secretURL
		default:
			return nil, fmt.Errorf("runtimeconfig: field %s: secret tag %q: want \"true\" or \"url\"", sf.Name, s)
		}
		out = append(out, f)
	}
	return out, nil
}

// explain turns caarlos0/env's errors, whose text may contain raw values,
// into problems that name the variable and never a secret value.
func explain(err error, t reflect.Type, fields []field, effective map[string]string) []Problem {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return []Problem{{Var: "(configuration)", Message: "cannot be loaded: " + err.Error()}}
	}
	var ps []Problem
	parseFailed := false
	for _, e := range agg.Errors {
		var (
			notSet   env.EnvVarIsNotSetError
			empty    env.EmptyEnvVarError
			noParser env.NoParserError
			badTag   env.NoSupportedTagOptionError
		)
		switch {
		case errors.As(e, &notSet):
			ps = append(ps, Problem{Var: notSet.Key, Message: fmt.Sprintf("required but not set; set %s or %s_FILE", notSet.Key, notSet.Key)})
		case errors.As(e, &empty):
			ps = append(ps, Problem{Var: empty.Key, Message: "must not be empty"})
		case errors.As(e, &noParser):
			ps = append(ps, Problem{Var: noParser.Name, Message: fmt.Sprintf("field of type %s cannot be read from the environment; give it a type caarlos0/env parses or one implementing encoding.TextUnmarshaler", noParser.Type)})
		case errors.As(e, &badTag):
			ps = append(ps, Problem{Var: "(configuration)", Message: badTag.Error()})
		default:
			parseFailed = true
		}
	}
	if parseFailed {
		ps = append(ps, blameParseErrors(t, fields, effective)...)
	}
	return ps
}

// blameParseErrors finds which variables failed to parse by parsing each
// one alone into a fresh struct: caarlos0/env reports parse failures by Go
// field name only, with the raw value in the message.
func blameParseErrors(t reflect.Type, fields []field, effective map[string]string) []Problem {
	baseline := countParseErrors(t, map[string]string{})
	var ps []Problem
	for _, f := range fields {
		val, ok := effective[f.key]
		if !ok {
			continue
		}
		n, pe := parseAlone(t, f.key, val)
		if n <= baseline {
			continue
		}
		ps = append(ps, Problem{Var: f.key, Message: parseMessage(f, val, pe)})
	}
	if len(ps) == 0 {
		ps = append(ps, Problem{Var: "(configuration)", Message: "an envDefault tag holds a value its field cannot parse; fix the default in the code"})
	}
	return ps
}

func countParseErrors(t reflect.Type, environment map[string]string) int {
	n, _ := parseInto(t, environment)
	return n
}

func parseAlone(t reflect.Type, key, val string) (int, *env.ParseError) {
	return parseInto(t, map[string]string{key: val})
}

func parseInto(t reflect.Type, environment map[string]string) (int, *env.ParseError) {
	err := env.ParseWithOptions(reflect.New(t).Interface(), envOptions(environment))
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return 0, nil
	}
	var (
		n     int
		first *env.ParseError
	)
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			n++
			if first == nil {
				first = &pe
			}
		}
	}
	return n, first
}

var (
	durationType        = reflect.TypeOf(time.Duration(0))
	urlType             = reflect.TypeOf(url.URL{})
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

func parseMessage(f field, val string, pe *env.ParseError) string {
	want := wantFor(f.typ)
	if want == "" && pe != nil && f.secret == public {
		var inner error = pe.Err
		want = inner.Error()
	}
	if want == "" {
		want = "not a valid " + f.typ.String()
	}
	if f.secret != public {
		return want + " (the value is secret and not shown)"
	}
	return fmt.Sprintf("%s, got %q", want, val)
}

func wantFor(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return ""
	}
	switch {
	case t == durationType:
		return "want a duration such as 30s, 1m or 1h30m"
	case t == urlType:
		return "want a URL"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "want true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "want a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "want a whole number from 0 up"
	case reflect.Float32, reflect.Float64:
		return "want a number"
	case reflect.Slice:
		return fmt.Sprintf("want a comma-separated list of %s", wantNoun(t.Elem()))
	}
	return ""
}

func wantNoun(t reflect.Type) string {
	w := wantFor(t)
	if w == "" {
		return t.String()
	}
	return strings.TrimPrefix(strings.TrimPrefix(w, "want "), "a ")
}

// validateBases runs Base's own rules on every Base inside v.
func validateBases(v reflect.Value) []Problem {
	var ps []Problem
	if v.CanAddr() {
		if b, ok := v.Addr().Interface().(*Base); ok {
			return b.validate()
		}
	}
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		if f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.Struct {
			f = f.Elem()
		}
		if f.Kind() == reflect.Struct {
			ps = append(ps, validateBases(f)...)
		}
	}
	return ps
}

func validationProblems(err error) []Problem {
	if err == nil {
		return nil
	}
	var cfgErr *Error
	if errors.As(err, &cfgErr) {
		return cfgErr.Problems
	}
	var ps []Problem
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var p Problem
		if errors.As(err, &p) {
			ps = append(ps, p)
			return
		}
		ps = append(ps, Problem{Var: "(configuration)", Message: err.Error()})
	}
	walk(err)
	return ps
}

// unblamed keeps the problems in ps for variables not already in blamed:
// a value that did not parse is not validated too.
func unblamed(ps, blamed []Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		if !slices.ContainsFunc(blamed, func(b Problem) bool { return b.Var == p.Var }) {
			out = append(out, p)
		}
	}
	return out
}

func dedupe(ps []Problem) []Problem {
	seen := make(map[Problem]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
