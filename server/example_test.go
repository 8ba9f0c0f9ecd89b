package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/relkit/relkit/server"
)

func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // or Options.Addr, or sockets handed over in Options.Env
	if err != nil {
		panic(err)
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "Hello")
	})
	s := server.New(hello, server.Options{Listener: ln, ShutdownTimeout: 5 * time.Second})

	ctx, stop := context.WithCancel(context.Background()) // signal.NotifyContext(ctx, syscall.SIGTERM) in a program
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, path := range []string{"/", "/healthz"} {
		resp, err := client.Get("http://" + s.Addr().String() + path)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %d %s", path, resp.StatusCode, body)
	}

	stop()
	fmt.Println("stopped:", <-done)
	// Output:
	// / 200 Hello
	// /healthz 200 ok
	// stopped: <nil>
}

func ExampleCheck() {
	dbDown := errors.New("connection refused")
	s := server.New(http.NotFoundHandler(), server.Options{
		Checks: []server.Check{
			{Name: "db", Func: func(ctx context.Context) error { return dbDown }, Timeout: time.Second},
			{Name: "cache", Func: func(ctx context.Context) error { return nil }},
		},
	})
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	fmt.Print(w.Code, " ", w.Body.String())
	// Output:
	// 503 not ready: db
}

func ExampleRequestID() {
	h := server.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "request", server.RequestIDFrom(r.Context()))
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Request-ID", "edge-7f3a")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Print(w.Body.String())
	fmt.Println(w.Header().Get("X-Request-ID"))
	// Output:
	// request edge-7f3a
	// edge-7f3a
}
