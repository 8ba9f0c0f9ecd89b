package runtimeconfig

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redacted is what a secret value, or the secret part of one, is shown as.
const Redacted = "***"

// Redact returns v as it may be shown for a field whose secret tag is tag:
// v itself for "" (not secret), [Redacted] for "true" (or "" when v is
// empty), and [RedactURL] of v for "url". Every value this package shows
// (Var.Value, problem messages) goes through it; the release uses it for
// its own output and logs.
func Redact(v, tag string) string {
	switch tag {
	case "":
		return v
	case "url":
		return RedactURL(v)
	}
	if v == "" {
		return ""
	}
	return Redacted
}

// URLSchemes are the schemes [RedactURL] shows a URL of; any other value is
// redacted whole.
var URLSchemes = []string{
	"postgres", "postgresql", "ecto", "mysql", "mariadb", "sqlite", "sqlite3", "file",
	"redis", "rediss", "valkey", "amqp", "amqps", "mongodb", "mongodb+srv", "nats",
	"clickhouse", "http", "https", "ws", "wss", "smtp", "smtps",
}

// RedactURL returns a URL as it may be shown: scheme, user, host, path and
// query as written, with the password replaced by ***, the value of every
// query parameter whose name suggests a credential (pass, pwd, secret,
// token, key, auth, cred, sig…) or whose value holds a NAME=VALUE with such
// a name replaced by ***, and the fragment dropped. Anything else is ***
// whole: a value that is not a URL of one of [URLSchemes] written as
// scheme://…, that holds a space, control or other unprintable character
// or invalid percent-encoding, an @ outside the user information (a
// password with an unencoded / ? or # in it), or a credential NAME=VALUE in
// its user, host or path. A keyword/value DSN such as
// "host=db user=app password=… dbname=app" is therefore *** whole.
func RedactURL(v string) string {
	if v == "" {
		return ""
	}
	if !plain(v) {
		return Redacted
	}
	i := strings.Index(v, "://")
	if i <= 0 || !knownScheme(strings.ToLower(v[:i])) {
		return Redacted
	}
	if p, err := url.Parse(v); err != nil || p.Opaque != "" {
		return Redacted
	}
	rest := v[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if strings.Contains(tail, "@") {
		return Redacted // the user information was cut short by / ? or #
	}
	if k := strings.IndexByte(tail, '#'); k >= 0 {
		tail = tail[:k]
	}
	path, query, hasQuery := strings.Cut(tail, "?")

	var b strings.Builder
	b.WriteString(v[:i+3])
	host := authority
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		userinfo := authority[:at]
		host = authority[at+1:]
		user, _, hasPassword := strings.Cut(userinfo, ":")
		if holdsCredential(user) {
			return Redacted
		}
		b.WriteString(user)
		if hasPassword {
			b.WriteString(":" + Redacted)
		}
		b.WriteByte('@')
	}
	if holdsCredential(host) || holdsCredential(path) {
		return Redacted
	}
	b.WriteString(host)
	b.WriteString(path)
	if hasQuery {
		q, ok := redactQuery(query)
		if !ok {
			return Redacted
		}
		b.WriteString("?" + q)
	}
	return b.String()
}

// plain reports whether v is valid UTF-8 without spaces, control or other
// unprintable characters.
func plain(v string) bool {
	if !utf8.ValidString(v) {
		return false
	}
	return strings.IndexFunc(v, func(r rune) bool { return r == ' ' || !unicode.IsPrint(r) }) < 0
}

func knownScheme(s string) bool {
	for _, k := range URLSchemes {
		if s == k {
			return true
		}
	}
	return false
}

// redactQuery redacts credential parameters of a raw query, keeping the
// others, and their order, as written. It fails on invalid escapes.
func redactQuery(q string) (string, bool) {
	parts := strings.Split(q, "&")
	for i, part := range parts {
		rawKey, rawVal, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return "", false
		}
		val, err := url.QueryUnescape(rawVal)
		if err != nil {
			return "", false
		}
		if credentialName(key) || holdsCredential(key) || holdsCredential(val) {
			parts[i] = rawKey + "=" + Redacted
		}
	}
	return strings.Join(parts, "&"), true
}

// holdsCredential reports whether s, raw or percent-decoded, holds
// NAME=VALUE with a NAME that suggests a credential, e.g. "password=x" or
// "-c sslpassword=x".
func holdsCredential(s string) bool {
	if d, err := url.PathUnescape(s); err == nil && d != s && holdsCredential(d) {
		return true
	}
	for i := strings.IndexByte(s, '='); i >= 0; {
		j := i
		for j > 0 && nameByte(s[j-1]) {
			j--
		}
		if credentialName(s[j:i]) {
			return true
		}
		k := strings.IndexByte(s[i+1:], '=')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return false
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

func credentialName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"pass", "pwd", "secret", "token", "key", "auth", "cred", "sig"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// minScrub is the shortest secret [scrubber] looks for in messages: a
// shorter one would match ordinary words.
const minScrub = 4

// scrubber returns a function that replaces, in a message, every secret
// value among fields (as effective holds them) by its redacted form, and
// every password a secret URL holds by ***. It guards messages that quote
// values: an application's Validate, for one.
func scrubber(fields []field, effective map[string]string) func(string) string {
	type pair struct{ secret, shown string }
	var pairs []pair
	add := func(secret, shown string) {
		if len(secret) >= minScrub && secret != shown {
			pairs = append(pairs, pair{secret, shown})
		}
	}
	for _, f := range fields {
		v, ok := effective[f.key]
		if !ok || f.secret == public {
			continue
		}
		add(v, redact(v, f.secret))
		if f.secret == secretURL {
			for _, s := range urlSecrets(v) {
				add(s, Redacted)
			}
		}
	}
	if len(pairs) == 0 {
		return func(s string) string { return s }
	}
	// Longest first: at each position the replacer tries them in order,
	// so a whole value is replaced before a part of it.
	slices.SortStableFunc(pairs, func(a, b pair) int { return len(b.secret) - len(a.secret) })
	args := make([]string, 0, 2*len(pairs))
	for _, p := range pairs {
		args = append(args, p.secret, p.shown)
	}
	return strings.NewReplacer(args...).Replace
}

// urlSecrets returns the parts of v that RedactURL hides and a message
// might quote on their own: the password, the values of NAME=VALUE pairs
// whose name suggests a credential (in a query or a keyword/value DSN),
// and the fragment.
func urlSecrets(v string) []string {
	var out []string
	if p, err := url.Parse(v); err == nil && p.User != nil {
		if pw, ok := p.User.Password(); ok {
			out = append(out, pw)
		}
	}
	for _, field := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '&' || r == '?' || r == ';' }) {
		if name, val, ok := strings.Cut(field, "="); ok && credentialName(name) {
			out = append(out, strings.Trim(val, `'"`))
			if d, err := url.QueryUnescape(val); err == nil {
				out = append(out, d)
			}
		}
	}
	if i := strings.IndexByte(v, '#'); i >= 0 {
		out = append(out, v[i+1:])
	}
	return out
}

func redact(v string, s secrecy) string {
	switch s {
	case secretValue:
		return Redact(v, "true")
	case secretURL:
		return Redact(v, "url")
	}
	return v
}
