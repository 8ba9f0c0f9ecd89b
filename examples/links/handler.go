package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/server/assets"
)

//go:embed index.html
var pages embed.FS

//go:embed static
var static embed.FS

// service is the running system's state: what the handler built, shared
// with the readiness check and the rpc task.
type service struct {
	store *store
	// Counters since the system started, read by `links rpc stats` and
	// handed over to the next release (handoff.go).
	created, redirects atomic.Int64
}

// handler serves the API, the page, the stylesheet and the redirects. The
// pool it opens lives as long as the process.
func (svc *service) handler(ctx context.Context, cfg *Config, log *slog.Logger) (http.Handler, error) {
	s, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	files, err := assets.New(sub, assets.Options{})
	if err != nil {
		return nil, err
	}
	svc.store = s
	a := &api{svc: svc, store: s, log: log, baseURL: strings.TrimSuffix(cfg.BaseURL, "/"),
		index: template.Must(template.New("index.html").Funcs(template.FuncMap{"asset": files.Path}).ParseFS(pages, "index.html"))}
	mux := http.NewServeMux()
	mux.Handle(files.Prefix(), files)
	mux.HandleFunc("GET /{$}", a.page)
	mux.HandleFunc("POST /{$}", a.form)
	mux.HandleFunc("GET /api/links", a.list)
	mux.HandleFunc("POST /api/links", a.create)
	mux.HandleFunc("GET /api/links/{code}", a.show)
	mux.HandleFunc("GET /{code}", a.redirect)
	return mux, nil
}

// ready is the readiness check: the database answers.
func (svc *service) ready(ctx context.Context, _ *Config) error {
	return svc.store.db.PingContext(ctx)
}

type api struct {
	svc     *service
	index   *template.Template
	store   *store
	log     *slog.Logger
	baseURL string
}

// linkJSON is a link as the API shows it.
type linkJSON struct {
	Link
	Short string `json:"short_url"`
}

func (a *api) short(r *http.Request, l Link) linkJSON {
	base := a.baseURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return linkJSON{Link: l, Short: base + "/" + l.Code}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (a *api) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case errors.Is(err, errTaken):
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
	default:
		a.log.Error("request failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	}
}

func (a *api) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL  string `json:"url"`
		Code string `json:"code"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want a JSON object {\"url\": ..., \"code\": optional}"})
		return
	}
	if err := checkLink(in.Code, in.URL); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	l, err := a.store.create(r.Context(), in.Code, in.URL)
	if err != nil {
		a.fail(w, err)
		return
	}
	a.svc.created.Add(1)
	writeJSON(w, http.StatusCreated, a.short(r, l))
}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	links, err := a.store.recent(r.Context(), 50)
	if err != nil {
		a.fail(w, err)
		return
	}
	out := make([]linkJSON, 0, len(links))
	for _, l := range links {
		out = append(out, a.short(r, l))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) show(w http.ResponseWriter, r *http.Request) {
	l, err := a.store.get(r.Context(), r.PathValue("code"))
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a.short(r, l))
}

func (a *api) redirect(w http.ResponseWriter, r *http.Request) {
	l, err := a.store.visit(r.Context(), r.PathValue("code"))
	if errors.Is(err, errNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	a.svc.redirects.Add(1)
	http.Redirect(w, r, l.URL, http.StatusFound)
}

func (a *api) page(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "", "")
}

// form handles the page's form: create, then show the page again.
func (a *api) form(w http.ResponseWriter, r *http.Request) {
	code, target := strings.TrimSpace(r.FormValue("code")), strings.TrimSpace(r.FormValue("url"))
	l, err := a.store.create(r.Context(), code, target)
	switch {
	case err == nil:
		a.svc.created.Add(1)
		a.render(w, r, http.StatusCreated, a.short(r, l).Short, "")
	case errors.Is(err, errTaken):
		a.render(w, r, http.StatusConflict, "", err.Error())
	case checkLink(code, target) != nil:
		a.render(w, r, http.StatusBadRequest, "", err.Error())
	default:
		a.fail(w, err)
	}
}

func (a *api) render(w http.ResponseWriter, r *http.Request, status int, created, problem string) {
	links, err := a.store.recent(r.Context(), 50)
	if err != nil {
		a.fail(w, err)
		return
	}
	data := struct {
		Links            []linkJSON
		Created, Problem string
	}{Created: created, Problem: problem}
	for _, l := range links {
		data.Links = append(data.Links, a.short(r, l))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := a.index.Execute(w, data); err != nil {
		a.log.Error("render the page", "err", err)
	}
}

// stats prints the running system's counters; it runs inside it (rpc).
func (svc *service) stats(_ context.Context, c *release.Call[Config]) error {
	fmt.Fprintf(c.Stdout, "links created: %d\nredirects: %d\n", svc.created.Load(), svc.redirects.Load())
	return nil
}
