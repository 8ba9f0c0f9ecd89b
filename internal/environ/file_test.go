package environ_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkit/relkit/internal/environ"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"empty", "", map[string]string{}},
		{"comments and blanks", "# a comment\n\n   # indented comment\n", map[string]string{}},
		{"plain", "PORT=4000\nLOG_LEVEL=debug\n", map[string]string{"PORT": "4000", "LOG_LEVEL": "debug"}},
		{"no final newline", "A=1", map[string]string{"A": "1"}},
		{"CRLF", "A=1\r\nB=2\r\n", map[string]string{"A": "1", "B": "2"}},
		{"spaces around", "  A = 1  \n", map[string]string{"A": "1"}},
		{"empty value", "EMPTY=\n", map[string]string{"EMPTY": ""}},
		{"equals in value", "DATABASE_URL=postgres://u:p@h/db?sslmode=disable&x=y\n", map[string]string{"DATABASE_URL": "postgres://u:p@h/db?sslmode=disable&x=y"}},
		{"double quotes keep spaces", `G="  hi there  "`, map[string]string{"G": "  hi there  "}},
		{"single quotes", `G='a "b" c'`, map[string]string{"G": `a "b" c`}},
		{"no expansion", "HOME_DIR=$HOME\nX=${Y:-z}\n", map[string]string{"HOME_DIR": "$HOME", "X": "${Y:-z}"}},
		{"no escapes", `P="a\nb"`, map[string]string{"P": `a\nb`}},
		{"hash in value", "COLOR=#fff\n", map[string]string{"COLOR": "#fff"}},
		{"underscore key", "_X1=1\n", map[string]string{"_X1": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := environ.Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !maps.Equal(tt.want, got) {
				t.Errorf("Parse(%q): want %v, got %v", tt.in, tt.want, got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-value"
	in := strings.Join([]string{
		"# config",
		"GOOD=1",
		"no equals sign " + secret,
		"1BAD=" + secret,
		"export TOKEN=" + secret,
		"GOOD=" + secret,
		`QUOTED="` + secret,
		`TRAIL="` + secret + `" # comment`,
	}, "\n")
	_, err := environ.Parse([]byte(in))
	var fe *environ.FileError
	if !errors.As(err, &fe) {
		t.Fatalf("want a *environ.FileError, got %v", err)
	}
	want := []environ.LineError{
		{Line: 3, Reason: "want KEY=VALUE"},
		{Line: 4, Reason: "the key must be a letter or _ followed by letters, digits or _"},
		{Line: 5, Key: "TOKEN", Reason: `drop "export": the file is read as KEY=VALUE lines, not run by a shell`},
		{Line: 6, Key: "GOOD", Reason: "set again (first on line 2); keep one"},
		{Line: 7, Key: "QUOTED", Reason: "the value opens a \" quote it does not close at the end of the line (values are one line; nothing may follow the closing quote)"},
		{Line: 8, Key: "TRAIL", Reason: "the value opens a \" quote it does not close at the end of the line (values are one line; nothing may follow the closing quote)"},
	}
	if len(fe.Lines) != len(want) {
		t.Fatalf("want %d problems, got %d: %v", len(want), len(fe.Lines), err)
	}
	for i := range want {
		if want[i] != fe.Lines[i] {
			t.Errorf("problem %d: want %+v, got %+v", i, want[i], fe.Lines[i])
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error shows a value: %q", err)
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "env")
	if _, err := environ.ReadFile(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: want os.ErrNotExist, got %v", err)
	}
	if err := os.WriteFile(p, []byte("A=1\nbad line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := environ.ReadFile(p)
	var fe *environ.FileError
	if !errors.As(err, &fe) || fe.File != p || !strings.HasPrefix(err.Error(), p+": 1 line(s) cannot be read") {
		t.Errorf("bad file: want a *environ.FileError naming %s, got %v", p, err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte("A="+strings.Repeat("x", environ.MaxSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := environ.ReadFile(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("file over MaxSize: want a refusal, got %v", err)
	}
}
