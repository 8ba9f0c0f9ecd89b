package runtimeconfig

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

type appConfig struct {
	Base
	APIKey   string        `env:"API_KEY" secret:"true" desc:"payments key"`
	Workers  int           `env:"WORKERS" envDefault:"4"`
	Required string        `env:"REGION,required"`
	Poll     time.Duration `env:"POLL" envDefault:"5s"`
	Tags     []string      `env:"TAGS"`
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	var cfg appConfig
	vars, err := Load(&cfg, map[string]string{"REGION": "eu"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want, got := 4000, cfg.Port; want != got {
		t.Errorf("PORT: want %d, got %d", want, got)
	}
	if cfg.Server != nil {
		t.Errorf("SERVER: want nil (the app's code default), got %v", *cfg.Server)
	}
	if want, got := slog.LevelInfo, cfg.LogLevel.Level(); want != got {
		t.Errorf("LOG_LEVEL: want %v, got %v", want, got)
	}
	if want, got := LogAuto, cfg.LogFormat; want != got {
		t.Errorf("LOG_FORMAT: want %v, got %v", want, got)
	}
	if want, got := 30*time.Second, cfg.ShutdownTimeout; want != got {
		t.Errorf("SHUTDOWN_TIMEOUT: want %v, got %v", want, got)
	}
	if want, got := 4, cfg.Workers; want != got {
		t.Errorf("WORKERS: want %d, got %d", want, got)
	}
	byName := map[string]Var{}
	for _, v := range vars {
		byName[v.Name] = v
	}
	for name, want := range map[string]Source{"PORT": SourceDefault, "REGION": SourceEnv, "API_KEY": SourceUnset, "SERVER": SourceUnset} {
		if got := byName[name].Source; want != got {
			t.Errorf("%s source: want %s, got %s", name, want, got)
		}
	}
	if !byName["REGION"].Required || byName["PORT"].Required {
		t.Errorf("required flags wrong: REGION %v, PORT %v", byName["REGION"].Required, byName["PORT"].Required)
	}
}

func TestLoadValues(t *testing.T) {
	t.Parallel()
	var cfg appConfig
	_, err := Load(&cfg, map[string]string{
		"PORT": "8080", "SERVER": "false", "LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json",
		"SHUTDOWN_TIMEOUT": "5s", "REGION": "us", "TAGS": "a,b", "SECRET_KEY_BASE": goodSecret,
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 8080 || cfg.Server == nil || *cfg.Server || cfg.LogLevel.Level() != slog.LevelDebug ||
		cfg.LogFormat != LogJSON || cfg.ShutdownTimeout != 5*time.Second || len(cfg.Tags) != 2 || cfg.SecretKeyBase != goodSecret {
		t.Fatalf("unexpected config: %+v", cfg)
	}
	if cfg.ServerEnabled(true) {
		t.Error("SERVER=false must override a code default of true")
	}
}

func TestServerEnabled(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	tests := []struct {
		name   string
		server *bool
		code   bool
		want   bool
	}{
		{"unset follows code default on", nil, true, true},
		{"unset follows code default off", nil, false, false},
		{"true overrides code off", &yes, false, true},
		{"false overrides code on", &no, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Base{Server: tt.server}
			if got := b.ServerEnabled(tt.code); tt.want != got {
				t.Fatalf("want %v, got %v", tt.want, got)
			}
		})
	}
}

func TestLoadReportsEveryProblemWithoutSecrets(t *testing.T) {
	t.Parallel()
	const leakedKey = "sk_live_supersecretvalue"
	const shortSecret = "tooshort-but-secret-value"
	const dbPassword = "hunter2-db-password"
	var cfg appConfig
	vars, err := Load(&cfg, map[string]string{
		"PORT":             "eighty",
		"LOG_LEVEL":        "verbose",
		"LOG_FORMAT":       "xml",
		"SHUTDOWN_TIMEOUT": "soon",
		"SECRET_KEY_BASE":  shortSecret,
		"API_KEY":          leakedKey,
		"WORKERS":          "-x",
		"DATABASE_URL":     "postgres://app:" + dbPassword + "@db/app",
	}, Options{})
	var cfgErr *Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	msg := err.Error()
	for _, want := range []string{
		`PORT: want a whole number, got "eighty"`,
		`LOG_LEVEL: want one of debug, info, warn, error, got "verbose"`,
		`LOG_FORMAT: want one of auto, text, json, got "xml"`,
		`SHUTDOWN_TIMEOUT: want a duration such as 30s, 1m or 1h30m, got "soon"`,
		`WORKERS: want a whole number, got "-x"`,
		`REGION: required but not set; set REGION or REGION_FILE`,
		`SECRET_KEY_BASE: want at least 64 characters, got 25`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error is missing %q", want)
		}
	}
	for _, secret := range []string{leakedKey, shortSecret, dbPassword} {
		if strings.Contains(msg, secret) {
			t.Errorf("the error leaks a secret value (%d bytes)", len(secret))
		}
		for _, v := range vars {
			if strings.Contains(v.Value, secret) {
				t.Errorf("%s's described value leaks a secret", v.Name)
			}
		}
	}
	if want, got := 7, len(cfgErr.Problems); want != got {
		t.Errorf("want %d problems, one per variable, got %d:\n%s", want, got, msg)
	}
}

func TestSecretParseFailureHidesValue(t *testing.T) {
	t.Parallel()
	type cfg struct {
		Pin int `env:"PIN" secret:"true"`
	}
	var c cfg
	_, err := Load(&c, map[string]string{"PIN": "s3cr3t-pin"}, Options{})
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), "s3cr3t-pin") {
		t.Fatal("the error leaks the secret value")
	}
	if want := "PIN: want a whole number (the value is secret and not shown)"; !strings.Contains(err.Error(), want) {
		t.Fatalf("want %q in %q", want, err.Error())
	}
}

func TestFileVariables(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "skb")
	if err := os.WriteFile(secretFile, []byte(goodSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"file is read and newline trimmed", map[string]string{"SECRET_KEY_BASE_FILE": secretFile, "REGION": "eu"}, ""},
		{"both set is refused", map[string]string{"SECRET_KEY_BASE_FILE": secretFile, "SECRET_KEY_BASE": goodSecret, "REGION": "eu"},
			"SECRET_KEY_BASE: both SECRET_KEY_BASE and SECRET_KEY_BASE_FILE are set; unset one of them"},
		{"missing file", map[string]string{"SECRET_KEY_BASE_FILE": filepath.Join(dir, "absent"), "REGION": "eu"},
			"SECRET_KEY_BASE_FILE: cannot read " + filepath.Join(dir, "absent") + ": no such file or directory"},
		{"required via file", map[string]string{"SECRET_KEY_BASE_FILE": secretFile, "REGION_FILE": secretFile}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg appConfig
			vars, err := Load(&cfg, tt.env, Options{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.SecretKeyBase != goodSecret {
					t.Fatalf("want the file's content without its newline, got %d bytes", len(cfg.SecretKeyBase))
				}
				for _, v := range vars {
					if v.Name == "SECRET_KEY_BASE" && (v.Source != SourceFile || v.Value != Redacted) {
						t.Fatalf("want source file and value ***, got %s %q", v.Source, v.Value)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestCodeDefaults(t *testing.T) {
	t.Parallel()
	var cfg appConfig
	vars, err := Load(&cfg, map[string]string{"REGION": "eu"}, Options{Defaults: map[string]string{"DATABASE_URL": "sqlite://app.db", "PORT": "4100"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "sqlite://app.db" || cfg.Port != 4100 {
		t.Fatalf("code defaults not applied: %q %d", cfg.DatabaseURL, cfg.Port)
	}
	var cfg2 appConfig
	if _, err := Load(&cfg2, map[string]string{"REGION": "eu", "PORT": "5000"}, Options{Defaults: map[string]string{"PORT": "4100"}}); err != nil {
		t.Fatal(err)
	}
	if want, got := 5000, cfg2.Port; want != got {
		t.Fatalf("the environment must win over code defaults: want %d, got %d", want, got)
	}
	for _, v := range vars {
		if v.Name == "PORT" && (v.Default != "4100" || v.Source != SourceDefault) {
			t.Fatalf("PORT: want default 4100 from the code, got %q (%s)", v.Default, v.Source)
		}
	}
}

type validated struct {
	Base
	Min int `env:"MIN" envDefault:"1"`
	Max int `env:"MAX" envDefault:"10"`
}

func (v *validated) Validate() error {
	if v.Min > v.Max {
		return errors.Join(FieldError{Var: "MIN", Message: "must not exceed MAX"})
	}
	return nil
}

func TestValidator(t *testing.T) {
	t.Parallel()
	var cfg validated
	_, err := Load(&cfg, map[string]string{"MIN": "20"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "MIN: must not exceed MAX") {
		t.Fatalf("want the validator's problem, got %v", err)
	}
}

func TestLoadRejectsNonPointer(t *testing.T) {
	t.Parallel()
	if _, err := Load(appConfig{}, nil, Options{}); !errors.Is(err, ErrNotStructPointer) {
		t.Fatalf("want ErrNotStructPointer, got %v", err)
	}
}

func TestBadSecretTagIsAProgrammingError(t *testing.T) {
	t.Parallel()
	type bad struct {
		X string `env:"X" secret:"yes"`
	}
	if _, err := Load(&bad{}, nil, Options{}); err == nil || !strings.Contains(err.Error(), `want "true" or "url"`) {
		t.Fatalf("want a tag error, got %v", err)
	}
}
