package main

import (
	"context"
	"embed"
	"fmt"
	"html"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/runtimeconfig"
	"github.com/relkit/relkit/server/assets"
)

//go:embed static
var static embed.FS

// page is hello's one HTML page. It is built with fmt rather than
// html/template to keep the example's binary small: text/template's use of
// reflection keeps every exported method of every linked type alive, about
// 3 MB (internal/testkit/bench/hello.sh measures the binary); an app that needs templates
// pays that with or without relkit.
func page(version, css string) string {
	v, c := html.EscapeString(version), html.EscapeString(css)
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>hello ` + v + `</title>
<link rel="stylesheet" href="` + c + `">
</head>
<body>
<h1>Hello from hello ` + v + `</h1>
<p>This page's stylesheet is served as <code>` + c + `</code>, cached for a year.</p>
</body>
</html>
`
}

func handler(ctx context.Context, _ *runtimeconfig.Base, _ *slog.Logger) (http.Handler, error) {
	version := release.InfoFrom(ctx).Version
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	a, err := assets.New(sub, assets.Options{})
	if err != nil {
		return nil, err
	}
	body := page(version, a.Path("app.css"))

	hello := fmt.Sprintf("Hello from hello %s\n", version)
	mux := http.NewServeMux()
	mux.Handle(a.Prefix(), a)
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, hello)
	})
	return mux, nil
}
