package runtimeconfig

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"password", "postgres://app:hunter2@db:5432/app?sslmode=disable", "postgres://app:***@db:5432/app?sslmode=disable"},
		{"no password", "postgres://app@db/app", "postgres://app@db/app"},
		{"empty password", "mysql://root:@127.0.0.1:3306/test", "mysql://root:***@127.0.0.1:3306/test"},
		{"password only", "redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"},
		{"scheme case kept", "Postgres://app:hunter2@db/app", "Postgres://app:***@db/app"},
		{"sqlite relative", "sqlite://links.db", "sqlite://links.db"},
		{"sqlite absolute", "sqlite3:///var/lib/links/links.db?_pragma=busy_timeout(5000)", "sqlite3:///var/lib/links/links.db?_pragma=busy_timeout(5000)"},
		{"percent-encoded password", "postgres://app:p%40ss%3Aw0rd@db/app", "postgres://app:***@db/app"},
		{"@ in the password", "postgres://app:p@ss@db/app", "postgres://app:***@db/app"},
		{"fragment dropped", "postgres://u@h/db#hunter2", "postgres://u@h/db"},
		{"fragment after a query", "postgres://u:pw@h/db?sslmode=require#hunter2", "postgres://u:***@h/db?sslmode=require"},
		{"password parameters", "postgres://u@h/db?sslmode=verify-full&password=hunter2&sslpassword=hunter3&PWD=x&pass=y&access_token=z&application_name=app",
			"postgres://u@h/db?sslmode=verify-full&password=***&sslpassword=***&PWD=***&pass=***&access_token=***&application_name=app"},
		{"encoded parameter name", "postgres://u@h/db?pass%77ord=hunter2", "postgres://u@h/db?pass%77ord=***"},
		{"password inside a parameter value", "postgres://u@h/db?options=-c%20password%3Dhunter2", "postgres://u@h/db?options=***"},
		{"parameter order kept", "mysql://u@h/d?parseTime=true&charset=utf8mb4&loc=UTC", "mysql://u@h/d?parseTime=true&charset=utf8mb4&loc=UTC"},

		{"keyword/value DSN", "host=db user=app password=hunter2 dbname=app sslmode=disable", "***"},
		{"keyword/value DSN, quoted", "host=db password='hunter 2' dbname=app", "***"},
		{"keyword/value DSN without password", "host=db user=app dbname=app", "***"},
		{"mysql DSN", "app:hunter2@tcp(db:3306)/app", "***"},
		{"mysql URL in DSN form", "mysql://app:hunter2@tcp(db:3306)/app", "***"},
		{"JDBC", "jdbc:postgresql://db/app?user=app&password=hunter2", "***"},
		{"opaque", "postgres:hunter2@db/app", "***"},
		{"unknown scheme", "foo://app:hunter2@db/app", "***"},
		{"no scheme", "//app:hunter2@db/app", "***"},
		{"plain word", "hunter2", "***"},
		{"space", "postgres://app@db/app password=hunter2", "***"},
		{"newline", "postgres://app@db/app\npassword=hunter2", "***"},
		{"control character", "postgres://app@db/\x1b[2Japp", "***"},
		{"unencoded / in the password", "postgres://app:12/34@db/app", "***"},
		{"unencoded # in the password", "postgres://app:12#34@db/app", "***"},
		{"unencoded ? in the password", "postgres://app:12?34@db/app", "***"},
		{"password marker in the path", "postgres://db/app;password=hunter2", "***"},
		{"password marker in the user", "postgres://password=hunter2@db/app", "***"},
		{"password marker in the host", "postgres://dbpassword=hunter2/app", "***"},
		{"user after password parameter", "postgres://db/app?password=pw&user=app", "postgres://db/app?password=***&user=app"},
		{"mysql tcp() form", "mysql://root@tcp(127.0.0.1:3306)/test", "***"},
		{"not a URL", "::not a url", "***"},
		{"bad percent-encoding in a parameter", "postgres://u@h/db?x=%zz", "***"},
	}
	for _, c := range cases {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("%s: RedactURL(%q): want %q, got %q", c.name, c.in, c.want, got)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	cases := []struct{ v, tag, want string }{
		{"visible", "", "visible"},
		{"s3cr3t", "true", "***"},
		{"", "true", ""},
		{"postgres://u:pw@h/db", "url", "postgres://u:***@h/db"},
		{"host=h password=pw", "url", "***"},
	}
	for _, c := range cases {
		if got := Redact(c.v, c.tag); got != c.want {
			t.Errorf("Redact(%q, %q): want %q, got %q", c.v, c.tag, c.want, got)
		}
	}
}

// What `config` shows comes from Var.Value: the two leaks.
func TestConfigNeverShowsADatabasePassword(t *testing.T) {
	t.Parallel()
	for _, dbURL := range []string{
		"host=db user=u password=hunter2 dbname=x",
		"postgres://u@h/db#hunter2",
		"postgres://u:hunter2@h/db?sslpassword=hunter2",
	} {
		var cfg appConfig
		vars, _ := Load(&cfg, map[string]string{"DATABASE_URL": dbURL, "REGION": "eu"}, Options{})
		for _, v := range vars {
			if v.Name == "DATABASE_URL" && strings.Contains(v.Value, "hunter2") {
				t.Errorf("DATABASE_URL=%q is shown as %q", RedactURL(dbURL), v.Value)
			}
		}
	}
}

// A validator that quotes a secret, or a parse error of one, never shows
// it: every problem message is scrubbed of the secrets loaded.
type quoting struct {
	Base
	Token string `env:"TOKEN" secret:"true"`
}

func (q *quoting) Validate() error {
	return errors.Join(
		FieldError{Var: "TOKEN", Message: fmt.Sprintf("token %q was revoked", q.Token)},
		fmt.Errorf("cannot reach %s", q.DatabaseURL),
	)
}

func TestProblemsAreScrubbedOfSecrets(t *testing.T) {
	t.Parallel()
	var cfg quoting
	_, err := Load(&cfg, map[string]string{
		"TOKEN":        "tok_live_123456",
		"DATABASE_URL": "postgres://app:hunter2@db/app",
	}, Options{})
	if err == nil {
		t.Fatal("want the validator's problems")
	}
	msg := err.Error()
	for _, secret := range []string{"tok_live_123456", "hunter2"} {
		if strings.Contains(msg, secret) {
			t.Errorf("the error shows a secret: %s", msg)
		}
	}
	for _, want := range []string{`token "***" was revoked`, "cannot reach postgres://app:***@db/app"} {
		if !strings.Contains(msg, want) {
			t.Errorf("want %q in the error, got:\n%s", want, msg)
		}
	}

	var kv quoting
	_, err = Load(&kv, map[string]string{"DATABASE_URL": "host=db password=hunter2 dbname=app"}, Options{})
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "cannot reach ***") {
		t.Errorf("keyword DSN: want it shown as ***, got %v", err)
	}
}

// markers are the ways a password is written into a value: after a
// credential NAME=, between : and @ (user information), after # (a
// fragment).
var markers = []struct{ open, close string }{
	{"password=", ""}, {"PASSWORD=", ""}, {"Password=", ""}, {"pwd=", ""}, {"pass=", ""}, {"passwd=", ""},
	{"sslpassword=", ""}, {"token=", ""}, {"secret=", ""}, {":", "@"}, {"#", ""},
}

// FuzzRedactURL: no value carrying a password after a marker ever comes
// out of RedactURL with the password, whatever surrounds it; the output is
// printable and redacting it again changes nothing.
func FuzzRedactURL(f *testing.F) {
	seeds := []struct {
		prefix, pw, suffix string
		marker             uint8
	}{
		{"host=db user=u ", "hunter2", " dbname=x", 0},
		{"postgres://u", "hunter2", "h/db", 9},
		{"postgres://u@h/db", "hunter2", "", 10},
		{"postgres://u@h/db?sslmode=require&", "hunter2", "&x=1", 6},
		{"mysql://u", "hun/ter2", "h/db", 9},
		{"mysql://u", "hun#ter2", "h/db", 9},
		{"postgres://u@h/db?options=-c%20", "hunter2", "", 2},
		{"postgres://h/", "hunter2", "", 1},
		{"postgres://", "hunter2", "@h", 4},
		{"redis://", "hunter2", "cache:6379", 9},
		{"sqlite://x.db?_pragma=", "hunter2", "", 7},
	}
	for _, s := range seeds {
		f.Add(s.prefix, s.pw, s.suffix, s.marker)
	}
	f.Fuzz(func(t *testing.T, prefix, pw, suffix string, m uint8) {
		marker := markers[int(m)%len(markers)]
		in := prefix + marker.open + pw + marker.close + suffix
		out := RedactURL(in)
		if distinctive(pw, prefix, marker.open, marker.close+suffix) && !(strings.HasSuffix(marker.open, "=") && strings.ContainsAny(pw, "&;@/?#")) &&
			strings.Contains(out, pw) {
			t.Fatalf("RedactURL(%q) = %q shows the password %q", in, out, pw)
		}
		for _, r := range out {
			if !unicode.IsPrint(r) {
				t.Fatalf("RedactURL(%q) = %q holds an unprintable %U", in, out, r)
			}
		}
		if again := RedactURL(out); again != out {
			t.Fatalf("RedactURL is not stable: %q → %q → %q", in, out, again)
		}
	})
}

// (After NAME=, an unencoded & ; @ / ? or # ends the value in a URL: what
// follows is not the password but the next parameter, the host or the
// path. A password written with them must be percent-encoded.)

// distinctive reports whether pw, if it appears in the output, can only
// have come from where the password was: it is long enough, holds no *
// (the redaction itself) and is not found in what surrounds it, even with
// the password replaced by ***.
func distinctive(pw, prefix, marker, suffix string) bool {
	if len(pw) < 4 || strings.Contains(pw, "*") {
		return false
	}
	for _, s := range []string{prefix + suffix, prefix + marker + Redacted + suffix} {
		if strings.Contains(s, pw) {
			return false
		}
	}
	return true
}
