// Command plainhello is the baseline for internal/testkit/bench/hello.sh: the same greeting
// as examples/hello, served by net/http alone with a slog logger, the way a
// hand-written service would be. With ACCESS_LOG=1 it also logs one JSON
// line per request, like relkit's default access log.
package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	hello := "Hello from hello 0.1.0\n"
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, hello)
	})
	if os.Getenv("ACCESS_LOG") == "1" {
		next := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			next.ServeHTTP(w, r)
			log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Duration("duration", time.Since(start)))
		})
	}
	addr := ":" + os.Getenv("PORT")
	log.Info("listening", "addr", addr)
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("serve", "error", err)
		os.Exit(1)
	}
}
