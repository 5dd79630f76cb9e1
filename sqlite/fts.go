package sqlite

import (
	"strings"
	"unicode"

	"github.com/sidelog/sidelog"
)

// ftsQuery turns a user's text into an FTS5 query that cannot be a syntax
// error: every word and "quoted phrase" becomes a quoted FTS5 string (all
// must match), and a trailing * on a word keeps its prefix meaning.
func ftsQuery(text string) (string, error) {
	// SQLite reads the query as a C string: a NUL would cut it short.
	text = strings.ReplaceAll(text, "\x00", " ")
	var terms []string
	add := func(s string, prefix bool) {
		if strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
			return // the tokenizer would drop it; an empty phrase matches nothing
		}
		t := `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		if prefix {
			t += "*"
		}
		terms = append(terms, t)
	}
	for rest := strings.TrimSpace(text); rest != ""; rest = strings.TrimSpace(rest) {
		if rest[0] == '"' {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				add(rest[1:], false)
				break
			}
			add(rest[1:1+end], false)
			rest = rest[2+end:]
			continue
		}
		word, tail, _ := strings.Cut(rest, " ")
		rest = tail
		w, prefix := strings.CutSuffix(word, "*")
		add(w, prefix)
	}
	if len(terms) == 0 {
		return "", sidelog.Errorf(sidelog.EINVALID, "text search %q has no words to look for", text)
	}
	return strings.Join(terms, " "), nil
}
