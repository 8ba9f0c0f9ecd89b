package runtimeconfig_test

import (
	"fmt"

	"github.com/relkit/relkit/runtimeconfig"
)

func ExampleLoad() {
	type Config struct {
		runtimeconfig.Base
		Greeting string `env:"GREETING" envDefault:"Hello" desc:"what / says"`
	}
	var cfg Config
	env := map[string]string{"PORT": "8080", "GREETING": "Hej"}
	if _, err := runtimeconfig.Load(&cfg, env, runtimeconfig.Options{}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Port, cfg.Greeting, cfg.ServerEnabled(true))
	// Output: 8080 Hej true
}

func ExampleLoad_errors() {
	type Config struct {
		runtimeconfig.Base
		APIKey string `env:"API_KEY,required" secret:"true"`
	}
	var cfg Config
	env := map[string]string{"PORT": "eighty", "SECRET_KEY_BASE": "too-short", "LOG_LEVEL": "loud"}
	_, err := runtimeconfig.Load(&cfg, env, runtimeconfig.Options{})
	fmt.Println(err)
	// Output:
	// invalid configuration:
	//   API_KEY: required but not set; set API_KEY or API_KEY_FILE
	//   PORT: want a whole number, got "eighty"
	//   LOG_LEVEL: want one of debug, info, warn, error, got "loud"
	//   SECRET_KEY_BASE: want at least 64 characters, got 9; generate one with the gen-secret command
}

func ExampleLoad_describe() {
	type Config struct {
		runtimeconfig.Base
	}
	var cfg Config
	vars, _ := runtimeconfig.Load(&cfg, map[string]string{
		"DATABASE_URL": "postgres://app:hunter2@db/app",
	}, runtimeconfig.Options{})
	for _, v := range vars {
		if v.Name == "DATABASE_URL" || v.Name == "PORT" {
			fmt.Println(v.Name, v.Source, v.Value)
		}
	}
	// Output:
	// PORT default 4000
	// DATABASE_URL env postgres://app:***@db/app
}

func ExampleRedactURL() {
	for _, v := range []string{
		"postgres://app:hunter2@db:5432/app?sslmode=disable",
		"postgres://app@db/app?sslpassword=hunter2#fragment",
		"host=db user=app password=hunter2 dbname=app",
	} {
		fmt.Println(runtimeconfig.RedactURL(v))
	}
	// Output:
	// postgres://app:***@db:5432/app?sslmode=disable
	// postgres://app@db/app?sslpassword=***
	// ***
}

func ExampleRedact() {
	fmt.Println(runtimeconfig.Redact("sk_live_123", "true"))
	fmt.Println(runtimeconfig.Redact("mysql://root:pw@db/app", "url"))
	fmt.Println(runtimeconfig.Redact("eu-west-1", ""))
	// Output:
	// ***
	// mysql://root:***@db/app
	// eu-west-1
}
