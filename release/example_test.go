package release_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
)

type Config struct {
	runtimeconfig.Base
	Greeting string `env:"GREETING" envDefault:"Hello" desc:"the greeting"`
}

func newApp() release.App[Config] {
	return release.App[Config]{
		Name:    "hello",
		Version: "0.1.0",
		Server:  true,
		Handler: func(ctx context.Context, cfg *Config, log *slog.Logger) (http.Handler, error) {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintln(w, cfg.Greeting)
			}), nil
		},
		Tasks: release.Tasks[Config]{
			"greet": {Summary: "print a greeting", Usage: "NAME", Run: func(ctx context.Context, c *release.Call[Config]) error {
				if len(c.Args) != 1 {
					return release.Usagef("greet needs one NAME")
				}
				fmt.Fprintf(c.Stdout, "%s, %s!\n", c.Config.Greeting, c.Args[0])
				return nil
			}},
		},
	}
}

// Run is what Main calls with the process's arguments, environment and
// streams; tests call it with their own.
func ExampleApp_Run() {
	app := newApp()
	env := []string{"GREETING=Hej"}
	code := app.Run(context.Background(), []string{"eval", "greet", "Ada"}, env, os.Stdin, os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// Hej, Ada!
	// exit 0
}

// A usage error prints what is wrong and what to run instead, and exits 64.
func ExampleApp_Run_usageError() {
	app := newApp()
	code := app.Run(context.Background(), []string{"eval", "greet"}, nil, os.Stdin, os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// Error: greet needs one NAME
	// Try: hello eval greet NAME
	// exit 64
}

// An invalid configuration names every variable at fault and exits 78.
func ExampleApp_Run_configError() {
	app := newApp()
	env := []string{"PORT=http", "SECRET_KEY_BASE=not-long-enough"}
	code := app.Run(context.Background(), []string{"start"}, env, os.Stdin, os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// Error: invalid configuration:
	//   PORT: want a whole number, got "http"
	//   SECRET_KEY_BASE: want at least 64 characters, got 15; generate one with the gen-secret command
	// Try: hello config   (lists every variable, its default and where its value came from)
	// exit 78
}

func ExampleApp_Run_version() {
	newApp().Run(context.Background(), []string{"version"}, nil, os.Stdin, os.Stdout, os.Stdout)
	// Output: hello 0.1.0
}

func ExampleMain() {
	// In main.go:
	//
	//	func main() { release.Main(newApp()) }
	//
	// Main passes os.Args[1:], os.Environ() and the standard streams to
	// App.Run, turns SIGINT/SIGTERM into a graceful shutdown and exits with
	// the command's exit code.
}
