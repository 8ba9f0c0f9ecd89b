// Package environ is the environment of a relkit process, modelled once.
//
// A release reads its configuration from two layers: the process
// environment it was started with, and beneath it its release's
// environment file — releases/VSN/env of the binary's own release, or the
// file RELEASE_ENV_FILE names — read at every boot, so that a new release
// brings its own settings to an upgrade without restarting the process
// systemd or Docker know. [Env] holds both layers and applies the two rules
// every part of relkit follows:
//
//   - what configuration is loaded from ([Env.Map]): the file beneath the
//     process environment, which wins, as systemd's EnvironmentFile= does;
//   - what a process relkit starts inherits ([Env.ForChild]): the process
//     environment only, never this release's file, so that the next
//     release reads its own file rather than its predecessor's.
//
// The app process of a release must also run with its file in its real
// environment, where the Go runtime (GOMEMLIMIT, GOGC, GODEBUG, TZ) and
// libraries (PGSSLMODE, SSL_CERT_FILE, proxies, cloud SDK credentials) read
// it: the supervisor starts each generation with [ForRelease], and a
// process that runs app code on its own re-executes itself with
// [Env.Unapplied] added (see the release package).
//
// # Environment file format
//
//	# comment lines and blank lines are ignored
//	DATABASE_URL=postgres://app@db/app
//	GREETING="  spaces kept inside quotes  "
//	EMPTY=
//
// Each line is KEY=VALUE. KEY is a letter or underscore followed by
// letters, digits or underscores. Whitespace around the line, the key and
// the value is dropped; a value wrapped in matching single or double quotes
// loses the quotes and keeps everything between them as written. Nothing
// else is interpreted: no $VAR expansion, no escapes, no `export`, no
// comments after a value, no multi-line values. A key set twice is an
// error. Variables that describe where the running system lives
// (RELEASE_ROOT, RELEASE_TMP, RELEASE_LOG_DIR) or that process managers set
// (NOTIFY_SOCKET, LISTEN_*, RELKIT_*) may not be set in a file.
//
// [Parse] reports every problem at once as a [*FileError] naming the
// lines; no message ever contains a value, since env files hold secrets.
//
// Why not github.com/joho/godotenv: it expands $VARS and accepts `export`
// and multi-line values, so a secret containing '$' changes meaning, and
// its errors quote the offending line (a secret). The format here is
// systemd's EnvironmentFile= subset, which the generated systemd unit and
// a Kubernetes ConfigMap can carry unchanged; its parser is 60 lines.
package environ
