package control

import (
	"fmt"
	"time"
)

// Version is the protocol version this package speaks.
const Version = 1

// Op names a request.
type Op = string

// The requests of protocol version 1.
const (
	OpPing    Op = "ping"
	OpPID     Op = "pid"
	OpStop    Op = "stop"
	OpRestart Op = "restart"
	OpRPC     Op = "rpc"
	// OpUpgrade asks a supervisor to switch to the installed release named
	// by Args[0] (its binary ROOT/releases/VSN/NAME), waiting at most
	// TimeoutMS for it to become ready; upgrade and downgrade send it.
	OpUpgrade Op = "upgrade"
	// OpHandoff asks an app process (a generation) for the state it hands
	// to the release replacing it; its supervisor sends it.
	OpHandoff Op = "handoff"
	// OpMaintenance asks the running app to reload its maintenance
	// state file; a supervisor passes it on to its generation.
	OpMaintenance Op = "maintenance"
	// OpDebug asks the running app for a look inside: Args[0] is stack,
	// heap or cpu (Args[1] the seconds); its output is streamed as Stdout.
	OpDebug Op = "debug"
)

// Request is what a client asks.
type Request struct {
	// V is the protocol version; [Client.Do] fills it in.
	V int `json:"v"`
	// Op is the request, e.g. [OpPing].
	Op Op `json:"op"`
	// Args are the request's arguments (for rpc: the task and its args;
	// for upgrade: the version).
	Args []string `json:"args,omitempty"`
	// TimeoutMS bounds the work a request starts, in milliseconds (for
	// upgrade: how long the new release may take to become ready). 0: the
	// server's default.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
}

// Message is one line of a server's answer: output, a progress event, or the
// final result.
type Message struct {
	// V is the server's protocol version.
	V int `json:"v"`
	// Stdout and Stderr carry output of an rpc task.
	Stdout []byte `json:"stdout,omitempty"`
	Stderr []byte `json:"stderr,omitempty"`
	// Event reports progress, e.g. "stopping".
	Event string `json:"event,omitempty"`
	// Done is the final result; no message follows it.
	Done *Result `json:"done,omitempty"`
}

// Result is the final answer to a request.
type Result struct {
	// Status is an exit status: 0 success, 1 failure, 64 usage error, 78
	// configuration error.
	Status int `json:"status"`
	// Error says what went wrong when Status is not 0.
	Error string `json:"error,omitempty"`
	// Info answers ping.
	Info *Info `json:"info,omitempty"`
	// PID answers pid, restart and upgrade (the new app process).
	PID int `json:"pid,omitempty"`
	// Version answers upgrade: the release now running.
	Version string `json:"version,omitempty"`
	// Handoff answers handoff: the state the app exports, nil when it
	// has none to hand over.
	Handoff *Handoff `json:"handoff,omitempty"`
}

// Handoff is state an app process hands to the release replacing it.
type Handoff struct {
	// Format is the app's version of the data's format; the importing
	// release checks it.
	Format int `json:"format"`
	// Data is the state (base64 in JSON).
	Data []byte `json:"data"`
}

// Err returns nil for a successful result and a [*StatusError] otherwise.
func (r Result) Err() error {
	if r.Status == 0 {
		return nil
	}
	return &StatusError{Status: r.Status, Message: r.Error}
}

// Fail returns a Result with status and a message formatted as fmt.Sprintf.
func Fail(status int, format string, args ...any) Result {
	return Result{Status: status, Error: fmt.Sprintf(format, args...)}
}

// StatusError is a failed [Result] as an error.
type StatusError struct {
	Status  int
	Message string
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("failed with status %d", e.Status)
	}
	return e.Message
}

// Info identifies a running system; it answers ping.
type Info struct {
	// Name and Version of the release.
	Name    string `json:"name"`
	Version string `json:"version"`
	// PID of the process that answers: the supervisor of a daemon, or the
	// release itself when it runs in the foreground.
	PID int `json:"pid"`
	// Mode is "supervisor", "foreground" or "generation" (an app process
	// run by a supervisor).
	Mode string `json:"mode"`
	// Root is RELEASE_ROOT of the running system.
	Root string `json:"root,omitempty"`
	// Started is when the answering process started.
	Started time.Time `json:"started"`
	// Instance is a random identifier of the answering process's run.
	Instance string `json:"instance"`
	// Protocol is the server's protocol version.
	Protocol int `json:"protocol"`
	// Ops are the requests the server answers.
	Ops []string `json:"ops"`
	// Generation and ChildPID describe a supervisor's current app process.
	Generation int `json:"generation,omitempty"`
	ChildPID   int `json:"child_pid,omitempty"`
}

// Modes of [Info].Mode.
const (
	ModeSupervisor = "supervisor"
	ModeForeground = "foreground"
	ModeGeneration = "generation"
)
