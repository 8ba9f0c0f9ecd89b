package control_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/relkit/relkit/internal/control"
)

func Example() {
	dir, _ := os.MkdirTemp("", "ctl")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "hello.sock")

	// The running system serves its control socket.
	ln, err := control.Listen(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &control.Server{Handler: control.HandlerFunc(func(ctx context.Context, req control.Request, s *control.Stream) control.Result {
		if req.Op != control.OpRPC {
			return control.Fail(64, "unknown request %q", req.Op)
		}
		fmt.Fprintf(s.Stdout(), "Hello, %s\n", strings.Join(req.Args[1:], " "))
		return control.Result{}
	})}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	// `hello rpc greet Ada` is a client.
	res, err := control.Call(context.Background(), path,
		control.Request{Op: control.OpRPC, Args: []string{"greet", "Ada"}},
		control.Output{Stdout: os.Stdout})
	fmt.Println("status", res.Status, err)
	// Output:
	// Hello, Ada
	// status 0 <nil>
}
