package server

import (
	"net/http"
	"sync/atomic"
)

// Stats are a Server's counters, as [Server.Stats] reads them.
type Stats struct {
	// Connections is the number of open client connections.
	Connections int64 `json:"connections"`
	// InFlight is the number of requests being handled now.
	InFlight int64 `json:"in_flight"`
	// Requests is the number of requests handled to the end since the
	// server started.
	Requests uint64 `json:"requests"`
}

// counters are kept with one atomic add each on the serving path, so that
// reading them (debug stats) costs the requests nothing else.
type counters struct {
	conns    atomic.Int64
	inFlight atomic.Int64
	served   atomic.Uint64
}

// Stats returns the server's counters now. Connections are counted while
// [Server.Run] serves; requests through [Server.Handler] too.
func (s *Server) Stats() Stats {
	return Stats{
		Connections: s.counters.conns.Load(),
		InFlight:    s.counters.inFlight.Load(),
		Requests:    s.counters.served.Load(),
	}
}

// connState counts the connections that open and close.
func (c *counters) connState(st http.ConnState) {
	switch st {
	case http.StateNew:
		c.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		c.conns.Add(-1)
	}
}
