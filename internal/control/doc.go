// Package control is the control channel of a running release: a Unix
// socket in RELEASE_TMP through which `stop`, `pid`, `restart`, `rpc`,
// `upgrade`, `downgrade` and `releases` talk to the running system. It
// plays the part of the Erlang distribution cookie in a mix release: only
// the release's own user (or root) gets in.
//
// # Security
//
//   - The socket lives in a directory of the release's user (or root) that
//     nobody else may write ([Listen] refuses another owner or a directory
//     writable by group or others; securedir checks its parents) and is
//     itself mode 0600. [CheckSocketPath] checks a path against the kernel's
//     limit ([MaxPath]).
//   - Every connection's peer credentials are read with SO_PEERCRED; a peer
//     whose uid is neither the server's nor root is answered "permission
//     denied" and disconnected before its request is read.
//   - The client checks the server the same way: [Dial] refuses a socket
//     served by a uid that is neither the client's nor root
//     (*[PeerError]) before sending anything, so a socket another user
//     swapped in can neither fake "stopped" nor collect requests. On
//     systems without SO_PEERCRED only the permissions protect the socket.
//   - The client learns the PID of the process that answers from the same
//     credentials ([Client.Peer]), so it can identify the running system
//     without trusting a PID file, and [Ping] checks that the process names
//     itself with that PID.
//   - Text in an answer reaches the caller through [EscapeText]: a control
//     character or bidi override arrives as a visible escape, never raw.
//   - A request is at most [MaxRequest] (1 MiB); the client refuses a
//     larger one before sending it (*[RequestTooLargeError]).
//
// # Protocol (version 1)
//
// One request per connection, as JSON lines (one JSON object per line). The
// client sends a [Request]:
//
//	{"v":1,"op":"rpc","args":["greet","Ada"]}
//
// and keeps its side open while it waits (closing it cancels the request).
// The server answers with zero or more [Message] lines carrying output or
// progress, then one line with "done", and closes the connection:
//
//	{"v":1,"stdout":"SGVsbG8sIEFkYQo="}
//	{"v":1,"done":{"status":0}}
//
// stdout and stderr are base64 (they are bytes, not necessarily UTF-8).
// "status" is an exit status: 0 success, 1 failure, 64 usage error, 78
// configuration error; "error" says what went wrong when it is not 0.
//
// Requests ([Op] constants): "ping" answers "info" ([Info]: name, version,
// pid, mode, instance, the ops the server knows); "pid" answers "pid";
// "stop" sends the event "stopping", stops the system gracefully and
// answers once it has stopped (or the connection just closes as the
// process exits); "restart" (supervised systems) starts a new generation,
// waits until it is ready, stops the old one and answers the new pid;
// "rpc" runs a task inside the system, streaming its output; "upgrade"
// (supervised systems) switches to the installed release named by its
// argument, "timeout_ms" bounding how long the new release may take to
// become ready, and answers its pid and version; "handoff" (asked of an app
// process by its supervisor) answers the state the app hands to the
// release replacing it, as "handoff": {"format": N, "data": BASE64}.
//
// Compatibility: fields are only ever added, and both sides ignore fields
// they do not know, so an older client and a newer server (or the reverse,
// as during an upgrade) understand each other. A request for an op the
// server does not know is answered with status 64 and an error naming it.
// "v" changes only if the framing itself changes; a server refuses a
// request whose version it does not speak.
package control
