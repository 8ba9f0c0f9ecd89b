// Package runtimeconfig loads an application's configuration from the
// environment at boot, the way a release reads config/runtime.exs: never at
// build time, so one build runs in every environment.
//
// An application embeds [Base] (PORT, SERVER, DATABASE_URL, SECRET_KEY_BASE,
// LOG_LEVEL, LOG_FORMAT, SHUTDOWN_TIMEOUT, ...) in its own struct and adds
// fields with caarlos0/env tags:
//
//	type Config struct {
//		runtimeconfig.Base
//		APIKey string `env:"API_KEY,required" secret:"true" desc:"key for the payments API"`
//	}
//
// [Load] takes the environment as a map: nothing in this package reads the
// process environment, so tests are hermetic and only the program's main
// passes os.Environ in.
//
// Beyond caarlos0/env, Load:
//
//   - reads NAME_FILE for every variable NAME (Docker and Kubernetes secret
//     files), trimming one trailing newline;
//   - reports every problem at once, one line per variable, naming the
//     variable and the rule it breaks ([Error]);
//   - never prints the value of a secret: a field tagged secret:"true" is
//     always shown as ***, and one tagged secret:"url" (DATABASE_URL) is
//     shown as its URL with the password and credential parameters as ***
//     and no fragment, or as *** whole when it is not a URL of a known
//     scheme (a keyword/value DSN, for one) — [Redact] and [RedactURL],
//     which the release uses for its own output too. caarlos0/env's own
//     errors, which embed raw values, are never shown, and every problem
//     message (an application's Validate included) is scrubbed of the
//     secret values loaded;
//   - describes every variable it read ([Var]): default, whether required,
//     where the value came from and the value, redacted — what the release's
//     `config` command prints.
//
// Struct tags understood in addition to caarlos0/env's:
//
//	secret:"true"   the value is never shown
//	secret:"url"    the value is a URL whose password is never shown (a
//	                value that is not such a URL is never shown at all)
//	desc:"..."      one line describing the variable, for `config`
//
// A configuration struct that implements [Validator] is validated after
// loading; [Base] validates itself.
package runtimeconfig
