package server

import (
	"encoding/json"
	"html"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// Maintenance switches a server into maintenance mode: while it is on,
// every route but the health endpoints answers 503 with Retry-After, as
// JSON when the client accepts JSON and as an HTML page otherwise, the
// message escaped. /readyz keeps answering 200, so load balancers keep the
// host and show the page. The zero value is off; it is safe for concurrent
// use, and a request reads it with one atomic load.
type Maintenance struct {
	p atomic.Pointer[MaintenanceState]
}

// MaintenanceState is what maintenance mode answers.
type MaintenanceState struct {
	// Message is shown to clients. Default "down for maintenance".
	Message string `json:"message,omitempty"`
	// RetryAfter is the Retry-After header, in seconds. Default 60.
	RetryAfter int `json:"retry_after,omitempty"`
}

// Set turns maintenance mode on with st, or off when st is nil.
func (m *Maintenance) Set(st *MaintenanceState) {
	if st != nil {
		c := *st
		st = &c
	}
	m.p.Store(st)
}

// State returns the current state, nil when maintenance mode is off.
func (m *Maintenance) State() *MaintenanceState { return m.p.Load() }

func (m *Maintenance) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := m.p.Load()
		if st == nil {
			next.ServeHTTP(w, r)
			return
		}
		serveMaintenance(w, r, st)
	})
}

func serveMaintenance(w http.ResponseWriter, r *http.Request, st *MaintenanceState) {
	msg, retry := st.Message, st.RetryAfter
	if msg == "" {
		msg = "down for maintenance"
	}
	if retry <= 0 {
		retry = 60
	}
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(retry))
	h.Set("Cache-Control", "no-store")
	if strings.Contains(r.Header.Get("Accept"), "json") {
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(struct {
			Error      string `json:"error"`
			Message    string `json:"message"`
			RetryAfter int    `json:"retry_after"`
		}{"maintenance", msg, retry})
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	e := html.EscapeString(msg)
	w.Write([]byte("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Maintenance</title></head>\n<body><h1>Down for maintenance</h1>\n<p>" + e + "</p>\n</body></html>\n"))
}
