package control_test

import (
	"context"
	"errors"
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

func ExampleEscapeText() {
	fmt.Println(control.EscapeText("stopped\x1b]0;title\x07 (pid 42)"))
	// Output: stopped\x1b]0;title\x07 (pid 42)
}

func ExampleCheckSocketPath() {
	fmt.Println(control.CheckSocketPath("/srv/hello/tmp/hello.sock"))
	err := control.CheckSocketPath("/" + strings.Repeat("d", 100) + "/hello.sock")
	var tooLong *control.PathTooLongError
	fmt.Println(errors.As(err, &tooLong), tooLong.Len, control.MaxPath)
	// Output:
	// <nil>
	// true 112 107
}
