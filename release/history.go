package release

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/install"
	"github.com/relkit/relkit/internal/supervisor"
)

// historyFile is ROOT/releases/HISTORY, the append-only record of switches
// the supervisor wrote: one tab-separated line each, with the time
// (RFC 3339), user, from, to, result and duration.
const historyFile = "HISTORY"

// switchRecorder is the supervisor's [supervisor.Recorder] for an
// assembled release: it commits a switch in RELEASES and bin/NAME and
// appends each outcome to releases/HISTORY.
type switchRecorder struct {
	root *install.Root
	log  interface{ Error(string, ...any) }
}

func (w *switchRecorder) Commit(rel supervisor.Release) error {
	return w.root.Commit(rel.Version)
}

func (w *switchRecorder) Record(r supervisor.SwitchRecord) {
	if err := appendHistory(w.root.Dir(), r); err != nil {
		w.log.Error("cannot append to the switch history", "err", err)
	}
}

// appendHistory appends r's line to ROOT/releases/HISTORY.
func appendHistory(root string, r supervisor.SwitchRecord) error {
	who := "-"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	clean := func(s string) string { return strings.NewReplacer("\t", " ", "\n", " ").Replace(s) }
	line := strings.Join([]string{
		r.Started.UTC().Format(time.RFC3339), who, r.From.Version, r.To.Version,
		clean(r.Op + " " + r.Result()), r.Took.Round(time.Millisecond).String(),
	}, "\t") + "\n"
	f, err := os.OpenFile(filepath.Join(root, "releases", historyFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printHistory copies ROOT/releases/HISTORY to w, under a header.
func printHistory(w io.Writer, root string) error {
	b, err := os.ReadFile(filepath.Join(root, "releases", historyFile))
	if os.IsNotExist(err) {
		fmt.Fprintln(w, "No switch recorded yet (releases/HISTORY does not exist).")
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprint(w, "TIME\tUSER\tFROM\tTO\tRESULT\tTOOK\n")
	_, err = w.Write(b)
	return err
}
