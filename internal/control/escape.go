package control

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EscapeText returns s with everything a terminal could act on written as
// a visible escape: control characters (C0 but newline and tab, DEL, C1),
// other invisible format characters such as bidi overrides, and bytes that
// are not UTF-8 become \xNN, \uNNNN or \UNNNNNNNN. Printable text, in any
// script, is returned unchanged. The client applies it to every text a
// server sends (errors, events, names, versions), so an answer never
// reaches the terminal raw.
func EscapeText(s string) string {
	i := strings.IndexFunc(s, needsEscape)
	if i < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !needsEscape(r):
			b.WriteString(s[i : i+size])
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += size
	}
	return b.String()
}

func needsEscape(r rune) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	return !unicode.IsPrint(r)
}

// escapeResult escapes the text fields of a server's result.
func escapeResult(r *Result) {
	r.Error = EscapeText(r.Error)
	r.Version = EscapeText(r.Version)
	if in := r.Info; in != nil {
		in.Name = EscapeText(in.Name)
		in.Version = EscapeText(in.Version)
		in.Mode = EscapeText(in.Mode)
		in.Root = EscapeText(in.Root)
		in.Instance = EscapeText(in.Instance)
		for i, op := range in.Ops {
			in.Ops[i] = EscapeText(op)
		}
	}
}
