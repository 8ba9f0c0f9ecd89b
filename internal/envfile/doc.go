// Package envfile reads environment files: the optional file of KEY=VALUE
// lines a release reads at every boot (releases/VSN/env, or the file
// RELEASE_ENV_FILE names), so that configuration changed on disk reaches
// the new release at an upgrade without restarting the process that
// systemd or Docker know.
//
// # Format
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
// error.
//
// [Parse] reports every problem at once as an [*Error] naming the lines;
// no message ever contains a value, since env files hold secrets.
// [Merge] combines a file with the process environment, which wins.
package envfile
