// Package release turns an application into a release: one call in main.go
// and the binary gets the operational command line that Elixir's
// mix release gives a Phoenix application.
//
//	func main() {
//		release.Main(release.App[Config]{
//			Name:    "hello",
//			Server:  true,
//			Handler: newHandler,
//			Tasks:   release.Tasks[Config]{"greet": {Summary: "print a greeting", Run: greet}},
//		})
//	}
//
// [Main] wires the process (arguments, environment, standard streams,
// signals) into [App.Run], which tests call directly with buffers.
//
// Commands:
//
//	start        run in the foreground; the HTTP server runs when enabled
//	health       probe the running release's /healthz on PORT (exit 0 or 1)
//	eval TASK    run a task in a fresh process, never starting the server
//	config       print every variable the app reads, secrets redacted
//	version      print the name and version (-v: revision, Go, platform)
//	gen-secret   print a random secret for SECRET_KEY_BASE
//	help         list the commands
//
// Exit codes: 0 success; 1 runtime failure; 64 usage error (unknown
// command, flag or task); 78 configuration error. After SIGINT or SIGTERM,
// start shuts down gracefully within SHUTDOWN_TIMEOUT and exits 0; a second
// signal exits at once with 128+signal (130 or 143).
//
// Configuration is read from the environment at boot by
// [github.com/relkit/relkit/runtimeconfig]; the configuration type C should
// embed [github.com/relkit/relkit/runtimeconfig.Base]. The HTTP server runs
// at start when App.Server is true, unless SERVER=false, and when SERVER=true
// even if App.Server is false; start logs which, and how to change it.
//
// The HTTP server is [github.com/relkit/relkit/server]: start serves the
// sockets handed over by systemd socket activation or relkit's supervisor
// when there are any, else PORT; /healthz and /readyz run [App.Checks];
// after SIGTERM /readyz answers 503, the server keeps serving for
// DRAIN_DELAY, then stops accepting and lets every connection finish
// within SHUTDOWN_TIMEOUT. [App.ServerOptions] switches middleware and
// moves the health endpoints.
//
// Readiness checks are an explicit field rather than an interface the
// Handler may implement: they show in the App literal, survive any
// middleware the Handler is wrapped in, and carry a name and a timeout
// each.
package release
