// Package sqlscan splits a migration file into its statements without
// parsing SQL: it knows only where strings, quoted identifiers, comments
// and routine bodies begin and end, so that a semicolon inside them does
// not end a statement. Package migrate uses it to list a file's statements
// in recovery advice, and the PostgreSQL driver to find transaction
// control (BEGIN, COMMIT) in a file before running it in a transaction of
// its own.
package sqlscan

import (
	"strings"
)

// Syntax selects the quoting rules of an engine.
type Syntax struct {
	// DollarQuotes: $tag$...$tag$ strings and E'...' strings with
	// backslash escapes, nested /* */ comments (PostgreSQL).
	DollarQuotes bool
	// Backslashes: backslash escapes in every '...' and "..." string,
	// `identifiers` and # comments (MySQL).
	Backslashes bool
}

// PostgreSQL, MySQL and SQLite are the engines' syntaxes.
var (
	PostgreSQL = Syntax{DollarQuotes: true}
	MySQL      = Syntax{Backslashes: true}
	SQLite     = Syntax{}
)

// Statement is one statement of a file.
type Statement struct {
	// Line is the 1-based line the statement starts on (its first
	// character that is not space or comment).
	Line int
	// Start and End are the byte offsets of the statement in the file,
	// from its first word to before its terminating semicolon (or the end
	// of the file).
	Start, End int
	// Text is the file's bytes from Start to End.
	Text string
	// Words are the statement's first words, upper-cased, outside comments:
	// up to four, e.g. ["BEGIN"] or ["CREATE", "OR", "REPLACE", "FUNCTION"].
	Words []string
}

// Split returns the statements of src, in order, skipping empty ones (a
// lone semicolon, comments only).
func Split(src []byte, syn Syntax) []Statement {
	s := scanner{src: src, syn: syn, line: 1}
	var out []Statement
	for {
		st, ok := s.next()
		if !ok {
			return out
		}
		out = append(out, st)
	}
}

type scanner struct {
	src  []byte
	syn  Syntax
	pos  int
	line int
}

// next scans one statement; false at the end of the file.
func (s *scanner) next() (Statement, bool) {
	st := Statement{Start: -1}
	var (
		depth     int  // BEGIN ... END nesting inside a routine body
		parens    int  // parenthesis nesting
		create    bool // the statement starts with CREATE
		routine   bool // it creates a function or procedure: BEGIN opens a body
		words     int  // identifiers seen
		skipAfter bool // the word after END closes IF, LOOP...: not a block
	)
	begin := func() {
		if st.Start < 0 {
			st.Start, st.Line = s.pos, s.line
		}
	}
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '\n':
			s.line++
			s.pos++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			s.pos++
		case c == '-' && s.peek(1) == '-' && (!s.syn.Backslashes || isSpace(s.peek(2))):
			s.lineComment()
		case c == '#' && s.syn.Backslashes:
			s.lineComment()
		case c == '/' && s.peek(1) == '*':
			s.blockComment()
		case c == ';' && depth == 0:
			s.pos++
			if st.Start >= 0 {
				st.Text = string(s.src[st.Start:st.End])
				return st, true
			}
		case c == '\'':
			begin()
			escapes := s.syn.Backslashes || s.syn.DollarQuotes && s.pos > 0 && (s.src[s.pos-1] == 'E' || s.src[s.pos-1] == 'e') && !isIdent(s.at(s.pos-2))
			s.quoted('\'', escapes)
			st.End = s.pos
		case c == '"':
			begin()
			s.quoted('"', s.syn.Backslashes)
			st.End = s.pos
		case c == '`' && s.syn.Backslashes:
			begin()
			s.quoted('`', false)
			st.End = s.pos
		case c == '$' && s.syn.DollarQuotes && s.dollarQuote():
			begin()
			st.End = s.pos
		case isIdentStart(c):
			begin()
			w := s.word()
			st.End = s.pos
			up := strings.ToUpper(w)
			if len(st.Words) < 4 {
				st.Words = append(st.Words, up)
			}
			words++
			switch {
			case words == 1:
				create = up == "CREATE"
				continue
			case create && !routine:
				routine, create = s.routine(up, words)
				continue
			case !routine || parens > 0:
				continue
			}
			if skipAfter {
				skipAfter = false
				if up == "IF" || up == "LOOP" || up == "WHILE" || up == "REPEAT" {
					depth++ // undo END's decrement: these did not open a block
					continue
				}
			}
			switch up {
			case "BEGIN":
				depth++
			case "CASE":
				if depth > 0 {
					depth++
				}
			case "END":
				if depth > 0 {
					depth--
					skipAfter = s.syn.Backslashes
				}
			}
		default:
			begin()
			switch c {
			case '(':
				parens++
			case ')':
				parens = max(parens-1, 0)
			}
			s.pos++
			st.End = s.pos
		}
	}
	if st.Start < 0 {
		return st, false
	}
	st.Text = string(s.src[st.Start:st.End])
	return st, true
}

// routine judges word, the n-th of a CREATE statement: whether it makes
// the statement one whose body may hold BEGIN ... END blocks with
// semicolons inside, as psql judges it (CREATE [OR REPLACE]
// FUNCTION|PROCEDURE on PostgreSQL, for BEGIN ATOMIC bodies; on MySQL also
// TRIGGER and EVENT, after any DEFINER clause), and whether a later word
// still can.
func (s *scanner) routine(word string, n int) (routine, maybe bool) {
	if s.syn.Backslashes {
		switch word {
		case "FUNCTION", "PROCEDURE", "TRIGGER", "EVENT":
			return true, true
		case "BEGIN", "AS", "SELECT", "TABLE", "VIEW", "INDEX":
			return false, false
		}
		return false, true
	}
	switch {
	case (n == 2 || n == 4) && (word == "FUNCTION" || word == "PROCEDURE"):
		return true, true
	case n == 2 && word == "OR", n == 3 && word == "REPLACE":
		return false, true
	}
	return false, false
}

func (s *scanner) peek(n int) byte { return s.at(s.pos + n) }

func (s *scanner) at(i int) byte {
	if i < 0 || i >= len(s.src) {
		return 0
	}
	return s.src[i]
}

func (s *scanner) lineComment() {
	for s.pos < len(s.src) && s.src[s.pos] != '\n' {
		s.pos++
	}
}

// blockComment skips /* ... */, nested on PostgreSQL.
func (s *scanner) blockComment() {
	depth := 0
	for s.pos < len(s.src) {
		switch {
		case s.src[s.pos] == '/' && s.peek(1) == '*':
			depth++
			s.pos += 2
			if !s.syn.DollarQuotes && depth > 1 {
				depth = 1
			}
		case s.src[s.pos] == '*' && s.peek(1) == '/':
			depth--
			s.pos += 2
			if depth == 0 {
				return
			}
		default:
			if s.src[s.pos] == '\n' {
				s.line++
			}
			s.pos++
		}
	}
}

// quoted skips a string or quoted identifier opened by q at s.pos; a
// doubled q is the character itself.
func (s *scanner) quoted(q byte, escapes bool) {
	s.pos++
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '\\' && escapes:
			if s.peek(1) == '\n' {
				s.line++
			}
			s.pos += 2
			continue
		case c == q && s.peek(1) == q:
			s.pos += 2
			continue
		case c == q:
			s.pos++
			return
		case c == '\n':
			s.line++
		}
		s.pos++
	}
}

// dollarQuote skips a $tag$...$tag$ string at s.pos and reports whether
// there was one ($1 is a parameter, not a quote).
func (s *scanner) dollarQuote() bool {
	if s.pos > 0 && isIdent(s.src[s.pos-1]) {
		return false
	}
	end := s.pos + 1
	for end < len(s.src) && s.src[end] != '$' {
		if !isIdent(s.src[end]) || (end == s.pos+1 && isDigit(s.src[end])) {
			return false
		}
		end++
	}
	if end >= len(s.src) {
		return false
	}
	tag := string(s.src[s.pos : end+1])
	body := end + 1
	i := strings.Index(string(s.src[body:]), tag)
	if i < 0 { // unterminated: the rest of the file
		s.line += strings.Count(string(s.src[body:]), "\n")
		s.pos = len(s.src)
		return true
	}
	s.line += strings.Count(string(s.src[body:body+i]), "\n")
	s.pos = body + i + len(tag)
	return true
}

func (s *scanner) word() string {
	start := s.pos
	for s.pos < len(s.src) && isIdent(s.src[s.pos]) {
		s.pos++
	}
	return string(s.src[start:s.pos])
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0
}
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
func isIdent(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }
