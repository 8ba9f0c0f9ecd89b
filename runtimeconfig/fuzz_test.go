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
		if pw := password(dbURL); len(pw) >= 4 && strings.Contains(out, pw) && !strings.Contains(publicText(env), pw) {
			t.Fatal("DATABASE_URL's password leaked")
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

func password(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return ""
	}
	userinfo := u[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return userinfo[i+1:]
	}
	return ""
}
