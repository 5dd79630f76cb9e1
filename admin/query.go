package admin

import (
	"strings"
	"time"
)

// splitTerms splits query text into its terms the way the query language
// does: at spaces outside double quotes (a backslash escapes inside them).
// It only rearranges the text; ParseQuery judges it.
func splitTerms(q string) []string {
	var terms []string
	var b strings.Builder
	inQuote, escaped := false, false
	for _, c := range q {
		switch {
		case escaped:
			escaped = false
		case inQuote && c == '\\':
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			if b.Len() > 0 {
				terms = append(terms, b.String())
				b.Reset()
			}
			continue
		}
		b.WriteRune(c)
	}
	if b.Len() > 0 {
		terms = append(terms, b.String())
	}
	return terms
}

// termKey returns the lowercase key of a key:value (or key>=, key<=) term,
// or "".
func termKey(t string) string {
	i := strings.IndexAny(t, ":<>=\"")
	if i <= 0 || t[i] == '"' {
		return ""
	}
	return strings.ToLower(t[:i])
}

// withoutKeys returns q without its terms whose key is one of keys.
func withoutKeys(q string, keys ...string) []string {
	var out []string
	for _, t := range splitTerms(q) {
		k := termKey(t)
		drop := false
		for _, key := range keys {
			if k == key {
				drop = true
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

// replaceTerms returns q with its terms of the given keys replaced by add.
func replaceTerms(q string, keys []string, add ...string) string {
	return strings.Join(append(withoutKeys(q, keys...), add...), " ")
}

// withRange returns q with its time terms replaced by an absolute range.
func withRange(q string, since, until time.Time) string {
	return replaceTerms(q, []string{"since", "until"},
		"since:"+since.UTC().Format(time.RFC3339), "until:"+until.UTC().Format(time.RFC3339))
}

// quoteValue quotes a value for a key:value term when it needs it.
func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\r\n\"\\") {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}
