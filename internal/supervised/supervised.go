// Package supervised is the app's side of the contract between relkit's
// supervisor and the app processes it runs (its generations). The
// supervisor starts each generation with
//
//   - the listening sockets at fds 3, 4, … (RELKIT_LISTEN_FDS, see
//     internal/handover);
//   - NOTIFY_SOCKET, where the generation sends READY=1 once its readiness
//     checks pass, and STATUS= lines;
//   - RELKIT_CONTROL_SOCKET, where the generation serves its own control
//     socket (the supervisor passes rpc requests there and asks for the
//     state to hand over);
//   - RELKIT_GENERATION, its number, 1 for the first;
//   - RELKIT_HANDOFF_FILE, when the generation it replaces handed over
//     state: a file holding it, removed once the new one is ready.
//
// [FromEnv] reads that environment in the generation; the supervisor sets
// it with [Generation.Env] and writes the state with [WriteHandoff].
package supervised

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/relspec"
)

// Generation is what a supervisor tells the app process it starts.
type Generation struct {
	// Number is the generation's number, 1 for the first.
	Number int
	// ControlSocket is where the generation serves its control socket.
	ControlSocket string
	// Notify is the supervisor's notification socket for this
	// generation.
	Notify string
	// HandoffFile holds the state the previous generation handed over;
	// "" when there is none.
	HandoffFile string
}

// FromEnv returns the generation env describes, and false when the process
// was not started by a supervisor (RELKIT_CONTROL_SOCKET is unset).
func FromEnv(env map[string]string) (Generation, bool) {
	sock := env[relspec.EnvControlSocket]
	if sock == "" {
		return Generation{}, false
	}
	n, _ := strconv.Atoi(env[relspec.EnvGeneration])
	return Generation{
		Number:        n,
		ControlSocket: sock,
		Notify:        env[relspec.EnvNotifySocket],
		HandoffFile:   env[relspec.EnvHandoffFile],
	}, true
}

// Env adds the generation's variables to env, replacing values given and
// dropping a handoff file variable when g has none.
func (g Generation) Env(env map[string]string) {
	env[relspec.EnvNotifySocket] = g.Notify
	env[relspec.EnvControlSocket] = g.ControlSocket
	env[relspec.EnvGeneration] = strconv.Itoa(g.Number)
	delete(env, relspec.EnvHandoffFile)
	if g.HandoffFile != "" {
		env[relspec.EnvHandoffFile] = g.HandoffFile
	}
}

// WriteHandoff writes h to a new file at path, readable only by its owner.
// An existing file is an error.
func WriteHandoff(path string, h *control.Handoff) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	err = json.NewEncoder(f).Encode(h)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("handoff: write %s: %w", path, err)
	}
	return nil
}

// ReadHandoff reads the state file a supervisor names in a generation's
// RELKIT_HANDOFF_FILE. It refuses data of more than maxSize bytes.
func ReadHandoff(path string, maxSize int) (*control.Handoff, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the handed-over state: %w", err)
	}
	defer f.Close()
	// base64 takes 4 bytes per 3, plus the JSON around it.
	limit := int64(maxSize)/3*4 + 1024
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read the handed-over state: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("the handed-over state in %s is larger than the %d bytes this release accepts", path, maxSize)
	}
	var h control.Handoff
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("read the handed-over state %s: %w", path, err)
	}
	if len(h.Data) > maxSize {
		return nil, fmt.Errorf("the handed-over state is %d bytes, more than the %d this release accepts", len(h.Data), maxSize)
	}
	return &h, nil
}
