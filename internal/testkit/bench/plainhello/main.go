// Command plainhello is the baseline for internal/testkit/bench/hello.sh: the same greeting
// as examples/hello, served by net/http alone with a slog logger, the way a
// hand-written service would be. With ACCESS_LOG=1 it also logs one JSON
// line per request, like relkit's default access log.
//
// It routes like examples/hello, through an http.ServeMux with the same
// three patterns (the assets prefix, "GET /page", and "/" answering only
// the path "/"), so that the benchmark's GET / costs both the same routing
// and the comparison measures relkit, not the example's router: without
// the mux, plainhello answered every path and skipped about 800
// instructions of routing per request (callgrind). Its answer to GET / is
// examples/hello's byte for byte, bar the X-Request-Id header relkit adds;
// with REQUEST_ID=1 it sets that header too, with a fresh random ID per
// request, to show what net/http charges for a response header the handler
// sets (WriteHeader clones the header map, and the map is written sorted).
package main

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"time"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	hello := "Hello from hello 0.1.0\n"
	page := "<!doctype html>\n<title>hello 0.1.0</title>\n<h1>Hello from hello 0.1.0</h1>\n"
	mux := http.NewServeMux()
	mux.Handle("/assets/", http.NotFoundHandler()) // examples/hello serves its digested assets here
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, hello)
	})
	var h http.Handler = mux
	if os.Getenv("REQUEST_ID") == "1" {
		next := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var id [16]byte
			binary.LittleEndian.PutUint64(id[:8], rand.Uint64())
			binary.LittleEndian.PutUint64(id[8:], rand.Uint64())
			w.Header().Set("X-Request-Id", base64.RawURLEncoding.EncodeToString(id[:]))
			next.ServeHTTP(w, r)
		})
	}
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
