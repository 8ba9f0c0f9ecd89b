package supervisor_test

import (
	"context"
	"log/slog"
	"net"
	"os"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/handover"
	"github.com/relkit/relkit/internal/supervisor"
)

// What `daemon` runs: the supervisor of ./bin/hello's start, serving the
// release's control socket.
func Example() {
	ln, err := net.Listen("tcp", ":4000")
	if err != nil {
		return
	}
	sup, err := supervisor.New(supervisor.Config{
		Name:      "hello",
		Binary:    "/srv/hello/releases/0.1.0/hello",
		Env:       map[string]string{"PORT": "4000"},
		Listeners: []handover.NamedListener{{Name: "http", Listener: ln}},
		Tmp:       "/srv/hello/tmp",
		PIDFile:   "/srv/hello/tmp/hello.pid",
		Logger:    slog.New(slog.NewJSONHandler(os.Stderr, nil)),
	})
	if err != nil {
		return
	}
	cln, err := control.Listen("/srv/hello/tmp/hello.sock")
	if err != nil {
		return
	}
	ctl := &control.Server{Handler: sup}
	go ctl.Serve(cln)
	defer ctl.Shutdown(context.Background())
	if err := sup.Run(context.Background()); err != nil {
		slog.Error("supervisor", "err", err)
	}
}
