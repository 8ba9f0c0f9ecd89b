// Package handover passes listening sockets from one process to the next:
// a parent hands them to a child it starts ([StartProcess]), and the child
// takes them ([Inherited]) — from relkit's supervisor (RELKIT_LISTEN_FDS,
// RELKIT_LISTEN_FDNAMES) or from systemd's socket activation (LISTEN_FDS,
// LISTEN_PID, LISTEN_FDNAMES, sd_listen_fds(3)). [Listen] is the one rule
// for where a release listens: the sockets it was handed, else PORT.
//
// The supervisor, `daemon` and the server package use it; it knows nothing
// of HTTP.
package handover
