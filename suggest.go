package sidelog

import "strings"

// fieldGuesses maps keys people type for a query field to the field.
var fieldGuesses = map[string]string{
	"lvl": "level", "lv": "level", "severity": "level", "sev": "level", "loglevel": "level", "log_level": "level",
	"type": "kind", "uid": "user", "userid": "user", "usr": "user", "tid": "tenant", "tenantid": "tenant",
	"org": "tenant", "req": "request", "reqid": "request", "rid": "request", "traceid": "trace",
	"stat": "status", "code": "status", "status_code": "status", "statuscode": "status",
	"dur": "duration", "latency": "duration", "elapsed": "duration", "took": "duration", "time_ms": "duration",
	"addr": "ip", "remote_addr": "ip", "remoteip": "ip", "url": "path", "uri": "path", "verb": "method",
	"from": "since", "after": "since", "to": "until", "before": "until", "source": "logger", "name": "logger",
}

// queryFields are the field names of the query language.
var queryFields = []string{"level", "kind", "logger", "user", "tenant", "request", "trace", "span",
	"method", "path", "route", "ip", "status", "duration", "since", "until", "has"}

// SuggestField returns the query field that key, which is not one, was
// probably meant to be — "lvl" gives "level", "stauts" "status" — or ""
// when none is close. A query reads an unknown key as an attribute
// (lvl:warn asks for records with an attribute lvl), so callers use it to
// hint when no record has that attribute.
func SuggestField(key string) string {
	k := strings.ToLower(key)
	if canonicalField(k) != "" {
		return ""
	}
	if f, ok := fieldGuesses[k]; ok {
		return f
	}
	best, bestD := "", 3
	for _, f := range queryFields {
		limit := 2
		if len(f) <= 4 || len(k) <= 3 {
			limit = 1
		}
		if d := editDistance(k, f); d <= limit && d < bestD {
			best, bestD = f, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// AttrTerms returns the terms of e that test an attribute: its value
// (FieldAttr) or its presence (FieldHas on an attribute path), in the
// order they appear.
func (e *Expr) AttrTerms() []*Term {
	if e == nil {
		return nil
	}
	var out []*Term
	var walk func(e *Expr)
	walk = func(e *Expr) {
		if e.Term != nil && (e.Term.Field == FieldAttr || (e.Term.Field == FieldHas && e.Term.Path != "")) {
			out = append(out, e.Term)
		}
		for i := range e.Args {
			walk(&e.Args[i])
		}
	}
	walk(e)
	return out
}

// MissingAttr describes an attribute term whose attribute no record in a
// query's range has: usually a misspelt field (lvl:warn for level:warn).
type MissingAttr struct {
	Term       string // the term as the query language writes it: lvl:warn
	Path       string // the attribute path: lvl
	Suggestion string // the term with the field it was probably meant to be (level:warn), or ""
}

// Hint returns a sentence for a person: what no record has, and what the
// term was probably meant to be.
func (m MissingAttr) Hint() string {
	s := "no record in the range has an attribute " + quoteValue(m.Path) + " (term " + m.Term + ")"
	if m.Suggestion != "" {
		return s + ": did you mean " + m.Suggestion + "?"
	}
	return s + "; attribute terms name a key of the records' attributes (see the query help for the fields)"
}

// NewMissingAttr describes the attribute term t as missing, with a
// suggested field when its path looks like one.
func NewMissingAttr(t *Term) MissingAttr {
	text := FormatQuery(Filter{Expr: &Expr{Op: OpTerm, Term: t}})
	m := MissingAttr{Term: text, Path: t.Path}
	if f := SuggestField(t.Path); f != "" {
		if t.Field == FieldHas {
			m.Suggestion = "has:" + f
		} else if rest, ok := strings.CutPrefix(text, quoteValue(t.Path)); ok {
			m.Suggestion = f + rest
		} else if i := strings.IndexAny(text, ":<>!="); i > 0 {
			m.Suggestion = f + text[i:]
		}
	}
	return m
}
