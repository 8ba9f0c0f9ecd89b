package environ

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// MaxSize bounds the size of an environment file [ReadFile] accepts: 1 MiB.
const MaxSize = 1 << 20

// Parse reads the KEY=VALUE lines of data (see the package documentation
// for the format) and returns the variables. When any line is wrong it
// returns nil and a [*FileError] listing every wrong line.
func Parse(data []byte) (map[string]string, error) {
	vars := map[string]string{}
	seen := map[string]int{}
	var problems []LineError
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), MaxSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bad := func(key, format string, args ...any) {
			problems = append(problems, LineError{Line: n, Key: key, Reason: fmt.Sprintf(format, args...)})
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok {
			bad("", "want KEY=VALUE")
			continue
		}
		if rest, ok := strings.CutPrefix(k, "export "); ok && validKey(strings.TrimSpace(rest)) {
			bad(strings.TrimSpace(rest), "drop \"export\": the file is read as KEY=VALUE lines, not run by a shell")
			continue
		}
		if !validKey(k) {
			bad("", "the key must be a letter or _ followed by letters, digits or _")
			continue
		}
		if prev, ok := seen[k]; ok {
			bad(k, "set again (first on line %d); keep one", prev)
			continue
		}
		v, err := unquote(strings.TrimSpace(v))
		if err != nil {
			bad(k, "%v", err)
			continue
		}
		seen[k] = n
		vars[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read environment file: %w", err)
	}
	if len(problems) > 0 {
		return nil, &FileError{Lines: problems}
	}
	return vars, nil
}

// Read reads and parses the environment file at path. A missing file is
// returned as an error matching [os.ErrNotExist]; a file larger than
// [MaxSize] is refused. A [*FileError] carries path in its File field.
func ReadFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read environment file %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("environment file %s is larger than %d bytes; it should hold KEY=VALUE lines only", path, MaxSize)
	}
	vars, err := Parse(data)
	var fe *FileError
	if errors.As(err, &fe) {
		fe.File = path
	}
	return vars, err
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// unquote removes one pair of matching quotes around v.
func unquote(v string) (string, error) {
	if v == "" || (v[0] != '"' && v[0] != '\'') {
		return v, nil
	}
	q := v[0]
	if len(v) < 2 || v[len(v)-1] != q {
		return "", fmt.Errorf("the value opens a %c quote it does not close at the end of the line (values are one line; nothing may follow the closing quote)", q)
	}
	return v[1 : len(v)-1], nil
}
