package runtimeconfig

import (
	"strings"
	"testing"
)

// FuzzLoad loads arbitrary values into every Base variable plus a secret
// and checks that loading never panics and never shows a secret value.
func FuzzLoad(f *testing.F) {
	f.Add("4000", "true", "postgres://u:pw@h/db", goodSecret, "info", "auto", "30s", "sk_test_value")
	f.Add("x", "maybe", "%%%", "short", "loud", "xml", "-1s", "")
	f.Add("99999", "", "mysql://u:p@tcp(h)/d?password=pw", "", "DEBUG", "JSON", "1h", "k")
	f.Add("4000", "", "host=db user=u password=hunter2 dbname=x", "", "info", "auto", "30s", "")
	f.Add("4000", "", "postgres://u@h/db#hunter2", "", "info", "auto", "30s", "")
	f.Fuzz(func(t *testing.T, port, server, dbURL, skb, level, format, timeout, apiKey string) {
		var cfg appConfig
		env := map[string]string{
			"PORT": port, "SERVER": server, "DATABASE_URL": dbURL, "SECRET_KEY_BASE": skb,
			"LOG_LEVEL": level, "LOG_FORMAT": format, "SHUTDOWN_TIMEOUT": timeout, "API_KEY": apiKey, "REGION": "eu",
		}
		vars, err := Load(&cfg, env, Options{})
		var shown strings.Builder
		if err != nil {
			shown.WriteString(err.Error())
		}
		for _, v := range vars {
			shown.WriteString(v.Value)
			shown.WriteString("\n")
		}
		out := shown.String()
		for name, secret := range map[string]string{"SECRET_KEY_BASE": skb, "API_KEY": apiKey} {
			if len(secret) >= 4 && strings.Contains(out, secret) && !strings.Contains(publicText(env), secret) {
				t.Fatalf("%s's value leaked", name)
			}
		}
		for _, pw := range passwords(dbURL) {
			if len(pw) >= 4 && strings.Contains(out, pw) && !strings.Contains(publicText(env), pw) {
				t.Fatalf("DATABASE_URL's password leaked: %q in\n%s", pw, out)
			}
		}
	})
}

// publicText is everything a message may legitimately quote: the values of
// non-secret variables, and the fixed wording around them.
func publicText(env map[string]string) string {
	var b strings.Builder
	for _, k := range []string{"PORT", "SERVER", "LOG_LEVEL", "LOG_FORMAT", "SHUTDOWN_TIMEOUT", "REGION"} {
		b.WriteString(env[k])
		b.WriteString("\x00")
	}
	b.WriteString("invalid configuration: want a whole number got true or false duration such as 30s, 1m or 1h30m ")
	b.WriteString("one of debug, info, warn, error auto, text, json at least 64 characters generate gen-secret command ")
	b.WriteString("port from 0 to 65535 positive required not set the value is secret and not shown *** both are set unset one of them postgres mysql")
	return b.String()
}

// passwords returns what dbURL holds as passwords: its user
// information's, every value after a password= (in a query or a
// keyword/value DSN), and its fragment.
func passwords(dbURL string) []string {
	var out []string
	at := strings.LastIndex(dbURL, "@")
	scheme := strings.Index(dbURL, "://")
	if at >= 0 && scheme >= 0 && at > scheme {
		if i := strings.Index(dbURL[scheme+3:at], ":"); i >= 0 {
			out = append(out, dbURL[scheme+3+i+1:at])
		}
	}
	for rest := dbURL; ; {
		i := strings.Index(strings.ToLower(rest), "password=")
		if i < 0 {
			break
		}
		rest = rest[i+len("password="):]
		value := rest
		if j := strings.IndexAny(value, " &"); j >= 0 {
			value = value[:j]
		}
		out = append(out, value)
	}
	if i := strings.Index(dbURL, "#"); i >= 0 {
		out = append(out, dbURL[i+1:])
	}
	return out
}
