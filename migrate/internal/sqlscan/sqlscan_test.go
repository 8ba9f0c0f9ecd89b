package sqlscan

import (
	"fmt"
	"strings"
	"testing"
)

// show renders statements as "line:text" joined by " | ".
func show(sts []Statement) string {
	var out []string
	for _, s := range sts {
		out = append(out, fmt.Sprintf("%d:%s", s.Line, s.Text))
	}
	return strings.Join(out, " | ")
}

func TestSplit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		syn  Syntax
		src  string
		want string
	}{
		{"plain", PostgreSQL, "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n", "1:CREATE TABLE a (id int) | 2:INSERT INTO a VALUES (1)"},
		{"no final semicolon", SQLite, "SELECT 1;\nSELECT 2", "1:SELECT 1 | 2:SELECT 2"},
		{"empty statements and comments", PostgreSQL, ";;\n-- only a comment;\n/* x; */ ;\nSELECT 1; -- trailing\n", "4:SELECT 1"},
		{"semicolon in a string", SQLite, "INSERT INTO a VALUES ('x;y''z;');\nSELECT 2;", "1:INSERT INTO a VALUES ('x;y''z;') | 2:SELECT 2"},
		{"quoted identifier", PostgreSQL, `CREATE TABLE "a;b" (id int); SELECT 1;`, `1:CREATE TABLE "a;b" (id int) | 1:SELECT 1`},
		{"line comment", PostgreSQL, "SELECT 1 -- a; b\n;\nSELECT 2;", "1:SELECT 1 | 3:SELECT 2"},
		{"nested block comment", PostgreSQL, "/* a /* b; */ c; */ SELECT 1;", "1:SELECT 1"},
		{"dollar quote", PostgreSQL, "CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql;\nSELECT f();",
			"1:CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql | 6:SELECT f()"},
		{"tagged dollar quote", PostgreSQL, "DO $body$ BEGIN PERFORM 1; END $body$;\nSELECT $1;", "1:DO $body$ BEGIN PERFORM 1; END $body$ | 2:SELECT $1"},
		{"E string", PostgreSQL, `SELECT E'a\';b';` + "\nSELECT 'c\\';\nSELECT 3;", `1:SELECT E'a\';b' | 2:SELECT 'c\' | 3:SELECT 3`},
		{"BEGIN ATOMIC body", PostgreSQL, "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN true THEN 1 END;\n  SELECT 2;\nEND;\nCOMMIT;",
			"1:CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN true THEN 1 END;\n  SELECT 2;\nEND | 6:COMMIT"},
		{"begin as a name is not a body", PostgreSQL, "CREATE INDEX begin ON t (x);\nCOMMIT;", "1:CREATE INDEX begin ON t (x) | 2:COMMIT"},
		{"transaction wrapper", PostgreSQL, "BEGIN;\nUPDATE a SET x = 1;\nCOMMIT;\n", "1:BEGIN | 2:UPDATE a SET x = 1 | 3:COMMIT"},
		{"mysql backslash and hash", MySQL, "INSERT INTO a VALUES ('x\\';y', \"q;\");\n# c; d\nSELECT `a;b` FROM t; -- x; y\nSELECT 3;", "1:INSERT INTO a VALUES ('x\\';y', \"q;\") | 3:SELECT `a;b` FROM t | 4:SELECT 3"},
		{"mysql procedure", MySQL, "CREATE DEFINER=`root`@`%` PROCEDURE p()\nBEGIN\n  IF 1 THEN SELECT 1; END IF;\n  WHILE 0 DO SELECT 2; END WHILE;\n  SELECT CASE WHEN 1 THEN 2 END;\nEND;\nSELECT 4;",
			"1:CREATE DEFINER=`root`@`%` PROCEDURE p()\nBEGIN\n  IF 1 THEN SELECT 1; END IF;\n  WHILE 0 DO SELECT 2; END WHILE;\n  SELECT CASE WHEN 1 THEN 2 END;\nEND | 7:SELECT 4"},
		{"mysql double dash needs a space", MySQL, "SELECT 1--1;\nSELECT 2;", "1:SELECT 1--1 | 2:SELECT 2"},
		{"sqlite has no dollar quotes", SQLite, "SELECT '$a$'; SELECT 2;", "1:SELECT '$a$' | 1:SELECT 2"},
		{"unterminated string runs to the end", SQLite, "SELECT 'abc;\nSELECT 2;", "1:SELECT 'abc;\nSELECT 2;"},
		{"crlf lines", PostgreSQL, "SELECT 1;\r\nSELECT 2;\r\n", "1:SELECT 1 | 2:SELECT 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := show(Split([]byte(tc.src), tc.syn)); got != tc.want {
				t.Errorf("Split(%q)\n got %q\nwant %q", tc.src, got, tc.want)
			}
		})
	}
}

func TestSplitWordsAndOffsets(t *testing.T) {
	t.Parallel()
	src := "/* c */ begin  work;\n  Start Transaction ISOLATION LEVEL SERIALIZABLE;"
	sts := Split([]byte(src), PostgreSQL)
	if len(sts) != 2 {
		t.Fatalf("got %d statements, want 2", len(sts))
	}
	if got := strings.Join(sts[0].Words, " "); got != "BEGIN WORK" {
		t.Errorf("words %q, want BEGIN WORK", got)
	}
	if got := strings.Join(sts[1].Words, " "); got != "START TRANSACTION ISOLATION LEVEL" {
		t.Errorf("words %q, want the first four", got)
	}
	for _, s := range sts {
		if src[s.Start:s.End] != s.Text {
			t.Errorf("offsets %d:%d do not hold %q", s.Start, s.End, s.Text)
		}
	}
}
