package release

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lmittmann/tint"
	"github.com/relkit/relkit/internal/control"
	"github.com/relkit/relkit/internal/logfile"
)

const logsSummary = "print the daemon's log across its rotated files, oldest first; -f follows it"

// logsPoll is how often logs -f looks for new lines.
const logsPoll = 100 * time.Millisecond

// logsCommand prints LOG/NAME.log and its rotated files as one log.
type logsCommand struct{}

func (c *logsCommand) run(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("logs", "[-f] [-n N] [-since DURATION|TIME] [-grep RE] [-json]", logsSummary+", across rotations and restarts, until interrupted")
	follow := fs.Bool("f", false, "keep printing new lines as they are written, across rotations and restarts, until interrupted (Ctrl-C)")
	n := new(int)
	*n = -1
	fs.Var((*lineCount)(n), "n", "print only the last `N` lines (10 with -f)")
	since := fs.String("since", "", "only lines from this long ago (10m, 2h) or since this time (2006-01-02T15:04:05, 2006-01-02 15:04, 15:04, local time unless it has a zone)")
	grep := fs.String("grep", "", "only lines matching this regular expression (RE2 syntax, on the line as written)")
	asJSON := fs.Bool("json", false, "print the lines as written (JSON), not as text")
	if err := r.noArgs(fs, args, r.app.name+" logs -n 100"); err != nil {
		return err
	}
	f := logFilter{}
	if *grep != "" {
		re, err := regexp.Compile(*grep)
		if err != nil {
			return &UsageError{Problem: fmt.Sprintf("logs: -grep %q: %v", *grep, err), Try: r.app.name + ` logs -grep 'status":5'`}
		}
		f.re = re
	}
	if *since != "" {
		t, err := parseSince(*since, time.Now())
		if err != nil {
			return &UsageError{Problem: "logs: -since: " + err.Error(), Try: r.app.name + " logs -since 10m"}
		}
		f.since = t
	}
	if *n == -1 && *follow {
		*n = 10
	}
	p, err := r.settings.Paths()
	if err != nil {
		return err
	}
	files, err := logfile.Files(p.logFile)
	if err != nil {
		return err
	}
	if len(files) == 0 && !*follow {
		return r.noLogFile(ctx, p)
	}
	out := bufio.NewWriter(r.stdout)
	pr := r.logPrinter(out, *asJSON)

	// The current file is opened before the rotated ones are read, and
	// followed from where the history ends.
	var cur *os.File
	if len(files) > 0 && files[len(files)-1] == p.logFile {
		if cur, err = logfile.OpenRead(p.logFile); err != nil {
			return err
		}
		defer func() { cur.Close() }()
		files = files[:len(files)-1]
	}
	ring := newLineRing(*n)
	for _, name := range files {
		lf, err := logfile.OpenRead(name)
		if errors.Is(err, os.ErrNotExist) {
			continue // rotated away meanwhile
		}
		if err != nil {
			return err
		}
		err = eachLine(lf, func(line []byte) { f.keep(line, ring.add) })
		lf.Close()
		if err != nil {
			return err
		}
	}
	tail := &fileTail{path: p.logFile, f: cur}
	if cur != nil {
		if err := tail.read(func(line []byte) { f.keep(line, ring.add) }); err != nil {
			return err
		}
	}
	for _, line := range ring.lines() {
		pr(line)
	}
	if err := out.Flush(); err != nil || !*follow {
		return err
	}
	if cur == nil {
		fmt.Fprintf(r.stderr, "logs: %s does not exist yet; waiting for it (Ctrl-C to stop)\n", p.logFile)
	}
	emit := func(line []byte) { f.keep(line, pr) }
	t := time.NewTicker(logsPoll)
	defer t.Stop()
	for {
		if err := tail.poll(emit); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			// Interrupted: what an operator does to stop following.
			return nil
		case <-t.C:
		}
	}
}

// lineCount is -n: a number of lines, or all of them (-1, the default).
type lineCount int

func (c *lineCount) String() string {
	if c == nil || *c < 0 {
		return "all"
	}
	return strconv.Itoa(int(*c))
}

func (c *lineCount) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return fmt.Errorf("want a number of lines, 0 or more, got %q", s)
	}
	*c = lineCount(v)
	return nil
}

// noLogFile explains why there is no log to print: the release runs (or
// ran) in the foreground, where its log goes to its standard error, which
// under systemd is the journal.
func (r *runner) noLogFile(ctx context.Context, p runtimePaths) error {
	what := fmt.Sprintf("no log file at %s: only %s daemon writes one", p.logFile, r.app.name)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := control.Ping(pctx, p.socket)
	if err != nil {
		return &exitError{Code: ExitFailure, Err: fmt.Errorf("%s, and nothing runs now; %s start logs to its standard error (under systemd: journalctl -u %s.service; under Docker: docker logs)", what, r.app.name, r.app.name)}
	}
	if unit, ok := systemdUnit(info.PID); ok {
		if unit == "" {
			unit = r.app.name + ".service"
		}
		return &exitError{Code: ExitFailure, Err: fmt.Errorf("%s; %s runs under systemd (pid %d, unit %s), which keeps its log in the journal\nTry: journalctl -u %s -f", what, r.app.name, info.PID, unit, unit)}
	}
	return &exitError{Code: ExitFailure, Err: fmt.Errorf("%s; %s runs in the foreground (pid %d, %s start), so its log goes wherever its standard error goes (under Docker: docker logs; under systemd: journalctl -u %s.service)", what, r.app.name, info.PID, r.app.name, r.app.name)}
}

// systemdUnit returns the systemd unit that process pid runs in, read from
// /proc (Linux), when systemd started it (INVOCATION_ID is in its
// environment).
func systemdUnit(pid int) (string, bool) {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil || !bytes.Contains(append([]byte{0}, env...), []byte("\x00INVOCATION_ID=")) {
		return "", false
	}
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err == nil {
		for _, line := range strings.Split(string(cg), "\n") {
			for _, part := range strings.Split(line, "/") {
				if strings.HasSuffix(part, ".service") {
					return part, true
				}
			}
		}
	}
	return "", true
}

// logFilter keeps the lines -since and -grep select. A line without a
// time (a panic's stack written to stderr) goes with the line before it.
type logFilter struct {
	since    time.Time
	re       *regexp.Regexp
	lastKept bool
}

func (f *logFilter) keep(line []byte, fn func([]byte)) {
	if !f.since.IsZero() {
		if t, ok := lineTime(line); ok {
			f.lastKept = !t.Before(f.since)
		}
		if !f.lastKept {
			return
		}
	}
	if f.re != nil && !f.re.Match(line) {
		return
	}
	fn(line)
}

// lineTime is the time of a JSON log line.
func lineTime(line []byte) (time.Time, bool) {
	var v struct {
		Time time.Time `json:"time"`
	}
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &v) != nil || v.Time.IsZero() {
		return time.Time{}, false
	}
	return v.Time, true
}

// parseSince reads -since: a duration before now, or a time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("%q is negative; give how long ago, e.g. 10m", s)
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			y, m, d := now.Date()
			return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, now.Location()), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (10m, 2h) nor a time (2006-01-02T15:04:05, 2006-01-02 15:04, 15:04, RFC 3339)", s)
}

// lineRing keeps the last n lines given to it (all of them for n < 0).
type lineRing struct {
	n   int
	buf [][]byte
}

func newLineRing(n int) *lineRing { return &lineRing{n: n} }

func (l *lineRing) add(line []byte) {
	if l.n == 0 {
		return
	}
	line = bytes.Clone(line)
	if l.n > 0 && len(l.buf) == l.n {
		copy(l.buf, l.buf[1:])
		l.buf[len(l.buf)-1] = line
		return
	}
	l.buf = append(l.buf, line)
}

func (l *lineRing) lines() [][]byte { return l.buf }

// eachLine calls fn with every line of r, without its newline.
func eachLine(r io.Reader, fn func([]byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			fn(bytes.TrimSuffix(line, []byte("\n")))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// fileTail reads the log file at path as it grows. When the file is
// rotated (path names another file), it reads what is left of the old one
// and goes on with the new one from its start; a file cut shorter is read
// again from its start.
type fileTail struct {
	path    string
	f       *os.File // nil until path exists
	partial []byte   // an unfinished last line
}

// read calls fn with every whole line from the current offset to the end.
func (t *fileTail) read(fn func([]byte)) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := t.f.Read(buf)
		data := buf[:n]
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				t.partial = append(t.partial, data...)
				break
			}
			if len(t.partial) > 0 {
				fn(append(t.partial, data[:i]...))
				t.partial = t.partial[:0]
			} else {
				fn(data[:i])
			}
			data = data[i+1:]
		}
		if errors.Is(err, io.EOF) || n == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// poll reads what was written since the last poll.
func (t *fileTail) poll(fn func([]byte)) error {
	if t.f != nil {
		if err := t.read(fn); err != nil {
			return err
		}
	}
	st, err := os.Stat(t.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // between a rotation's rename and the new file
	}
	if err != nil {
		return err
	}
	if t.f != nil {
		cur, err := t.f.Stat()
		if err != nil {
			return err
		}
		if os.SameFile(st, cur) {
			if off, err := t.f.Seek(0, io.SeekCurrent); err == nil && st.Size() < off {
				t.f.Seek(0, io.SeekStart) // truncated
				t.partial = t.partial[:0]
			}
			return nil
		}
		// Rotated: the old file was renamed, and is complete once the
		// new one exists; read its last lines, then switch.
		if err := t.read(fn); err != nil {
			return err
		}
		if len(t.partial) > 0 {
			fn(t.partial)
			t.partial = t.partial[:0]
		}
		t.f.Close()
		t.f = nil
	}
	f, err := logfile.OpenRead(t.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	t.f = f
	return t.read(fn)
}

// logPrinter returns the function that prints one line: as written with
// -json, else as tint's text (coloured on a terminal unless NO_COLOR is
// set). A line that is not JSON is printed as it is.
func (r *runner) logPrinter(w io.Writer, asJSON bool) func([]byte) {
	if asJSON {
		return func(line []byte) { w.Write(line); w.Write([]byte{'\n'}) }
	}
	_, noColor := r.env.Lookup("NO_COLOR")
	return r.printerFor(w, false, noColor || !isTerminal(r.stdout))
}

// printerFor is logPrinter with the choices made.
func (r *runner) printerFor(w io.Writer, asJSON, noColor bool) func([]byte) {
	if asJSON {
		return func(line []byte) { w.Write(line); w.Write([]byte{'\n'}) }
	}
	h := tint.NewTextHandler(w, &tint.Options{
		Level:      slog.Level(-1 << 10),
		TimeFormat: "2006-01-02 15:04:05.000",
		NoColor:    noColor,
	})
	return func(line []byte) {
		rec, ok := parseRecord(line)
		if !ok {
			w.Write(line)
			w.Write([]byte{'\n'})
			return
		}
		h.Handle(context.Background(), rec)
	}
}

// parseRecord turns a line that slog's JSON handler wrote back into a
// record, its attributes in the order they were written.
func parseRecord(line []byte) (slog.Record, bool) {
	if len(line) == 0 || line[0] != '{' {
		return slog.Record{}, false
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	attrs, err := decodeObject(dec)
	if err != nil {
		return slog.Record{}, false
	}
	var (
		t     time.Time
		level slog.Level
		msg   string
		rest  = attrs[:0:0]
	)
	for _, a := range attrs {
		switch {
		case a.Key == slog.TimeKey && a.Value.Kind() == slog.KindString:
			if pt, err := time.Parse(time.RFC3339Nano, a.Value.String()); err == nil {
				t = pt
				continue
			}
		case a.Key == slog.LevelKey && a.Value.Kind() == slog.KindString:
			if level.UnmarshalText([]byte(a.Value.String())) == nil {
				continue
			}
		case a.Key == slog.MessageKey && a.Value.Kind() == slog.KindString:
			msg = a.Value.String()
			continue
		}
		rest = append(rest, a)
	}
	rec := slog.NewRecord(t.Local(), level, msg, 0)
	rec.AddAttrs(rest...)
	return rec, true
}

// decodeObject reads one JSON object from dec as attributes, nested
// objects as groups.
func decodeObject(dec *json.Decoder) ([]slog.Attr, error) {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var attrs []slog.Attr
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		v, err := decodeValue(dec)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, slog.Attr{Key: key, Value: v})
	}
	_, err := dec.Token() // '}'
	return attrs, err
}

func decodeValue(dec *json.Decoder) (slog.Value, error) {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return slog.Value{}, err
	}
	switch raw[0] {
	case '{':
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		attrs, err := decodeObject(d)
		return slog.GroupValue(attrs...), err
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return slog.StringValue(s), err
	case 't', 'f':
		return slog.BoolValue(raw[0] == 't'), nil
	case 'n', '[':
		return slog.StringValue(string(raw)), nil
	}
	n := json.Number(raw)
	if i, err := n.Int64(); err == nil {
		return slog.Int64Value(i), nil
	}
	if f, err := n.Float64(); err == nil {
		return slog.Float64Value(f), nil
	}
	return slog.StringValue(string(raw)), nil
}
