package sidelog

import (
	"cmp"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ExprOp is the operation of an Expr node.
type ExprOp uint8

// The operations of an expression.
const (
	OpTerm ExprOp = iota // a single test: Expr.Term
	OpAnd                // every one of Args
	OpOr                 // any of Args
	OpNot                // not Args[0]
)

// Expr is a boolean expression over records: the part of a query that
// Filter's flat fields cannot say — OR, negation, parentheses, lists,
// attribute terms, has:, route:, durations and the other comparisons.
// ParseQuery builds it; the store evaluates it together with the flat
// fields (AND).
type Expr struct {
	Op   ExprOp
	Args []Expr // OpAnd and OpOr: two or more; OpNot: one
	Term *Term  // OpTerm
}

// The fields a Term can test besides the record's columns.
const (
	FieldAttr = "attr" // an attribute at Term.Path
	FieldHas  = "has"  // presence: of the attribute at Term.Path, or of the column in Values[0]
	FieldText = "text" // full-text search: Values[0] is a word, prefix* or "phrase"
)

// Term is one test of a query. Field is a column field (level, kind,
// logger, user, tenant, request, trace, span, method, path, route, ip,
// status, duration), FieldAttr, FieldHas or FieldText. Op is ":"
// (equality; with several Values, any of them), or one of > >= < <=.
// Values are normalized as ParseQuery leaves them: levels by name (or
// integer), methods upper-case, IP addresses canonical, durations as
// time.Duration.String writes them.
type Term struct {
	Field  string
	Path   string // the attribute path (dotted) for FieldAttr and FieldHas
	Op     string
	Values []string
}

// hasColumns are the columns has: can test, by query name.
var hasColumns = map[string]func(*Record) bool{
	"logger":   func(r *Record) bool { return r.Logger != "" },
	"user":     func(r *Record) bool { return r.UserID != "" },
	"tenant":   func(r *Record) bool { return r.TenantID != "" },
	"request":  func(r *Record) bool { return r.RequestID != "" },
	"trace":    func(r *Record) bool { return r.TraceID != "" },
	"span":     func(r *Record) bool { return r.SpanID != "" },
	"method":   func(r *Record) bool { return r.Method != "" },
	"path":     func(r *Record) bool { return r.Path != "" },
	"route":    func(r *Record) bool { return r.Route != "" },
	"ip":       func(r *Record) bool { return r.ClientIP != "" },
	"status":   func(r *Record) bool { return r.Status != 0 },
	"duration": func(r *Record) bool { return r.Duration != 0 },
	"error":    func(r *Record) bool { return r.Error != "" },
	"attrs":    func(r *Record) bool { return hasAnyAttr(r.Attrs) },
}

// HasColumn reports whether has:name tests a column (rather than an
// attribute called name).
func HasColumn(name string) bool { _, ok := hasColumns[name]; return ok }

func hasAnyAttr(a []byte) bool {
	found := false
	WalkAttrs(a, func(string, AttrValue) bool { found = true; return false })
	return found
}

// stringColumns maps the exact-match string fields to the record's value.
var stringColumns = map[string]func(*Record) string{
	"logger":  func(r *Record) string { return r.Logger },
	"user":    func(r *Record) string { return r.UserID },
	"tenant":  func(r *Record) string { return r.TenantID },
	"request": func(r *Record) string { return r.RequestID },
	"trace":   func(r *Record) string { return r.TraceID },
	"span":    func(r *Record) string { return r.SpanID },
	"method":  func(r *Record) string { return r.Method },
	"path":    func(r *Record) string { return r.Path },
	"route":   func(r *Record) string { return r.Route },
	"ip":      func(r *Record) string { return r.ClientIP },
}

// Match reports whether r matches f: every set field and the expression.
// It is the reference the store's answers are checked against, and serves
// callers that filter records in memory (a live tail). Text search folds
// case like the store; it does not fold accents, which the store does.
func (f Filter) Match(r *Record) bool {
	switch {
	case f.MinLevel != nil && r.Level < *f.MinLevel,
		f.MaxLevel != nil && r.Level > *f.MaxLevel,
		!f.Since.IsZero() && r.Time.Before(f.Since),
		!f.Until.IsZero() && !r.Time.Before(f.Until),
		len(f.Kinds) > 0 && !containsKind(f.Kinds, r.Kind),
		f.Logger != "" && r.Logger != f.Logger,
		f.RequestID != "" && r.RequestID != f.RequestID,
		f.TraceID != "" && r.TraceID != f.TraceID,
		f.UserID != "" && r.UserID != f.UserID,
		f.TenantID != "" && r.TenantID != f.TenantID,
		f.Method != "" && r.Method != strings.ToUpper(f.Method),
		f.Path != "" && !matchPath(r.Path, f.Path),
		f.ClientIP != "" && r.ClientIP != f.ClientIP,
		f.MinStatus > 0 && (r.Status == 0 || r.Status < f.MinStatus),
		f.MaxStatus > 0 && (r.Status == 0 || r.Status > f.MaxStatus),
		f.Text != "" && !MatchText(r, f.Text),
		f.Expr != nil && !f.Expr.Match(r):
		return false
	}
	return true
}

func containsKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// matchPath is the path filter: exact, or a prefix when it ends in *.
func matchPath(path, want string) bool {
	if prefix, ok := strings.CutSuffix(want, "*"); ok {
		return path != "" && strings.HasPrefix(path, prefix)
	}
	return path == want
}

// Match reports whether r satisfies the expression.
func (e *Expr) Match(r *Record) bool {
	switch e.Op {
	case OpAnd:
		for i := range e.Args {
			if !e.Args[i].Match(r) {
				return false
			}
		}
		return true
	case OpOr:
		for i := range e.Args {
			if e.Args[i].Match(r) {
				return true
			}
		}
		return false
	case OpNot:
		return len(e.Args) == 1 && !e.Args[0].Match(r)
	}
	return e.Term != nil && e.Term.Match(r)
}

// Match reports whether r passes the term. A comparison with a value the
// record does not have (no status, no duration, no such attribute) is
// false, and so its negation is true.
func (t *Term) Match(r *Record) bool {
	switch t.Field {
	case FieldText:
		return len(t.Values) == 1 && MatchText(r, t.Values[0])
	case FieldHas:
		if t.Path == "" && len(t.Values) == 1 {
			has := hasColumns[t.Values[0]]
			return has != nil && has(r)
		}
		found := false
		AttrPaths(r.Attrs, func(p string) { found = found || p == t.Path })
		return found
	case FieldAttr:
		return t.matchAttr(r.Attrs)
	case "level":
		return t.any(func(v string) bool {
			l, err := parseLevel(v)
			return err == nil && compare(int64(r.Level), t.Op, int64(l))
		})
	case "kind":
		return t.any(func(v string) bool { return r.Kind.String() == v })
	case "status":
		return r.Status != 0 && t.any(func(v string) bool {
			if lo, hi, ok := parseStatus(v, ":"); ok && t.Op == ":" {
				return lo <= r.Status && r.Status <= hi
			}
			n, err := strconv.Atoi(v)
			return err == nil && compare(int64(r.Status), t.Op, int64(n))
		})
	case "duration":
		return r.Duration != 0 && t.any(func(v string) bool {
			d, err := time.ParseDuration(v)
			return err == nil && compare(int64(r.Duration), t.Op, int64(d))
		})
	}
	get := stringColumns[t.Field]
	if get == nil {
		return false
	}
	got := get(r)
	return got != "" && t.any(func(v string) bool {
		if (t.Field == "path" || t.Field == "route") && t.Op == ":" {
			return matchPath(got, v)
		}
		return compare(got, t.Op, v)
	})
}

func (t *Term) any(fn func(string) bool) bool {
	for _, v := range t.Values {
		if fn(v) {
			return true
		}
	}
	return false
}

// compare applies a query operator (":" is equality) to two ordered values.
func compare[T cmp.Ordered](a T, op string, b T) bool {
	switch op {
	case ":":
		return a == b
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "<":
		return a < b
	case "<=":
		return a <= b
	}
	return false
}

// matchAttr tests the attribute values at t.Path: equality with any value
// (a value that reads as a number also equals the same number however the
// record wrote it), or a comparison — numeric when the query value is a
// number, between strings otherwise.
func (t *Term) matchAttr(attrs []byte) bool {
	found := false
	WalkAttrs(attrs, func(path string, v AttrValue) bool {
		if path == t.Path && t.any(func(want string) bool { return AttrValueMatches(v, t.Op, want) }) {
			found = true
		}
		return !found
	})
	return found
}

// AttrValueMatches reports whether an attribute value passes op want, by
// the rules of attribute terms (see Term).
func AttrValueMatches(v AttrValue, op, want string) bool {
	n, err := strconv.ParseFloat(want, 64)
	isNum := err == nil && !strings.ContainsAny(want, "xXpP_iInN") // no hex, underscores, Inf or NaN
	if op == ":" {
		return v.Text == want || (isNum && v.Kind == AttrNumber && v.Num == n)
	}
	if isNum {
		return v.Kind == AttrNumber && compare(v.Num, op, n)
	}
	return v.Kind == AttrString && compare(v.Text, op, want)
}

// MatchText reports whether the full-text query text (words, prefix*
// words and "phrases", all of which must occur) matches r's message, its
// error, or its attributes' string values. Each of the three is searched
// on its own; in the attributes, a word or phrase lies within one value.
func MatchText(r *Record, text string) bool {
	q := textQuery(text)
	if len(q) == 0 {
		return false
	}
	if matchTokens(textTokens(r.Message), q) || (r.Error != "" && matchTokens(textTokens(r.Error), q)) {
		return true
	}
	var vals [][]string
	WalkAttrs(r.Attrs, func(_ string, v AttrValue) bool {
		if v.Kind == AttrString {
			vals = append(vals, textTokens(v.Text))
		}
		return true
	})
	if len(vals) == 0 {
		return false
	}
	for _, p := range q {
		found := false
		for _, toks := range vals {
			if found = matchTokens(toks, []textPhrase{p}); found {
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// textPhrase is one term of a text query: tokens in a row, the last a
// prefix when prefix is set.
type textPhrase struct {
	toks   []string
	prefix bool
}

// textQuery splits a full-text query the way the store does: each word
// or "quoted phrase" becomes a phrase of its tokens; a word ending in *
// is a prefix; terms without letters or digits are dropped.
func textQuery(text string) []textPhrase {
	text = strings.ReplaceAll(text, "\x00", " ")
	var out []textPhrase
	add := func(s string, prefix bool) {
		if toks := textTokens(s); len(toks) > 0 {
			out = append(out, textPhrase{toks, prefix})
		}
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
	return out
}

// textTokens splits s into lower-case words of letters, digits and
// private-use characters, like the store's tokenizer.
func textTokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Co, r) && !unicode.Is(unicode.Nl, r) && !unicode.Is(unicode.No, r)
	})
}

// matchTokens reports whether every phrase occurs in toks.
func matchTokens(toks []string, q []textPhrase) bool {
	for _, p := range q {
		if !hasPhrase(toks, p) {
			return false
		}
	}
	return true
}

func hasPhrase(toks []string, p textPhrase) bool {
	n := len(p.toks)
	for i := 0; i+n <= len(toks); i++ {
		ok := true
		for j, w := range p.toks {
			if j == n-1 && p.prefix {
				ok = ok && strings.HasPrefix(toks[i+j], w)
			} else {
				ok = ok && toks[i+j] == w
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// normalizeIP returns the canonical form of an IP address.
func normalizeIP(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	return a.String(), true
}

// levelValue parses a level as written in a query.
func levelValue(s string) (slog.Level, bool) {
	l, err := parseLevel(s)
	return l, err == nil
}
