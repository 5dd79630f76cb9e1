package sidelog

import (
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The query language shared by the CLI and the admin UI; docs/query.md is
// its reference. A query is terms separated by spaces (AND), with OR, NOT
// or a leading -, and parentheses:
//
//	level:warn level>=warn kind:audit,security status:5xx status:404,410
//	user:42 route:"GET /projects/{id}" path:/api/* duration>250ms
//	project_id:4 order.total>100 attrs.http.client.os:linux has:order.id
//	-status:404  NOT level:debug  (user:1 OR user:2)
//	words "quoted phrases" prefix*   full-text search
//	since:90m until:2026-11-01T00:00:00Z
//
// Terms that the flat Filter fields can hold go there (so older callers
// keep working); the rest goes to Filter.Expr. A key that is not a field
// names an attribute; a term with an operator the field does not take is an
// error naming the term, never a text search.

// maxQueryLen bounds a query so that a pasted blob cannot make the parser or
// the store do unbounded work.
const maxQueryLen = 4096

// maxDepth bounds the nesting of parentheses and negations.
const maxDepth = 50

// maxAgo bounds the durations of since: and until: (100 years), which keeps
// the computed times inside the years RFC 3339 can write.
const maxAgo = 100 * 365 * 24 * time.Hour

// term is one lexed term of a query.
type term struct {
	key    string   // the key as written; "" for a text word or phrase
	field  string   // the lower-case key
	op     string   // ":", ">=", "<=", ">", "<", "!="; "" for text
	vals   []string // the values (a list has several), unquoted
	val    string   // vals[0]
	raw    string   // the term as written, for error messages
	quoted bool     // text: a quoted phrase
}

// tokKind is the kind of a lexed token.
type tokKind uint8

const (
	tokTerm tokKind = iota
	tokLParen
	tokRParen
	tokOr
	tokAnd
	tokNot // NOT or a leading -
)

type token struct {
	kind tokKind
	t    term
	raw  string
}

// ParseQuery parses the query language into a Filter. Relative times
// (since:90m) are taken back from now. Errors are *Error with EINVALID and a
// message naming the bad term.
func ParseQuery(q string, now time.Time) (Filter, error) {
	var f Filter
	if len(q) > maxQueryLen {
		return f, Errorf(EINVALID, "query too long (%d bytes, at most %d)", len(q), maxQueryLen)
	}
	if !utf8.ValidString(q) {
		return f, Errorf(EINVALID, "query is not valid UTF-8")
	}
	toks, err := lexQuery(q)
	if err != nil {
		return Filter{}, err
	}
	p := &parser{toks: toks}
	root, err := p.or(0)
	if err != nil {
		return Filter{}, err
	}
	if p.i < len(p.toks) {
		return Filter{}, Errorf(EINVALID, "unbalanced parenthesis: %q has no opening (", p.toks[p.i].raw)
	}
	var items []*pnode
	if root != nil {
		items = root.conjuncts()
	}
	var text []string
	var rest []Expr
	for _, it := range items {
		if it.op == OpTerm && it.t.key == "" {
			text = appendText(text, it.t)
			continue
		}
		if it.op == OpTerm && legacyTerm(it.t) {
			if err := applyTerm(&f, it.t, now); err != nil {
				return Filter{}, err
			}
			continue
		}
		e, err := it.expr()
		if err != nil {
			return Filter{}, err
		}
		rest = append(rest, e)
	}
	f.Text = strings.Join(text, " ")
	switch len(rest) {
	case 0:
	case 1:
		f.Expr = &rest[0]
	default:
		f.Expr = &Expr{Op: OpAnd, Args: rest}
	}
	if err := checkRanges(f); err != nil {
		return Filter{}, err
	}
	return f, nil
}

// appendText adds a text word, or a phrase in the FTS5 form ("" for a quote
// inside it), to the full-text terms. Blank phrases are dropped.
func appendText(text []string, t term) []string {
	if s := textValue(t); s != "" {
		return append(text, s)
	}
	return text
}

// textValue is a text term in Filter.Text's form: a word, or a quoted
// phrase with "" for a quote; "" for a blank phrase.
func textValue(t term) string {
	switch {
	case !t.quoted:
		return t.val
	case strings.TrimSpace(t.val) == "":
		return ""
	}
	return `"` + strings.ReplaceAll(t.val, `"`, `""`) + `"`
}

// legacyTerm reports whether a term at the top level of a query belongs in
// Filter's flat fields.
func legacyTerm(t term) bool {
	if len(t.vals) != 1 {
		return t.field == "kind" && t.op == ":"
	}
	switch t.field {
	case "level", "status":
		return t.op == ":" || t.op == ">=" || t.op == "<="
	case "kind", "since", "until":
		return t.op == ":"
	}
	_, ok := stringKeys[t.field]
	return ok && t.op == ":"
}

// pnode is a parsed query before it becomes a Filter.
type pnode struct {
	op   ExprOp
	args []*pnode
	t    term
}

// conjuncts returns the top-level AND items of n.
func (n *pnode) conjuncts() []*pnode {
	if n.op == OpAnd {
		return n.args
	}
	return []*pnode{n}
}

// parser reads tokens into pnodes: OR binds loosest, then AND (a space or
// the word AND), then NOT and -.
type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() (token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return token{}, false
}

func (p *parser) or(depth int) (*pnode, error) {
	var args []*pnode
	for {
		n, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		t, ok := p.peek()
		if n == nil {
			if len(args) > 0 || (ok && t.kind == tokOr) {
				return nil, Errorf(EINVALID, "OR needs a term on each side")
			}
			return nil, nil
		}
		args = append(args, n)
		if !ok || t.kind != tokOr {
			break
		}
		p.i++
	}
	return join(OpOr, args), nil
}

func (p *parser) and(depth int) (*pnode, error) {
	var args []*pnode
	for {
		t, ok := p.peek()
		if !ok || t.kind == tokOr || t.kind == tokRParen {
			break
		}
		if t.kind == tokAnd {
			p.i++
			if len(args) == 0 {
				return nil, Errorf(EINVALID, "AND needs a term on each side")
			}
			if t2, ok := p.peek(); !ok || t2.kind == tokOr || t2.kind == tokRParen || t2.kind == tokAnd {
				return nil, Errorf(EINVALID, "AND needs a term on each side")
			}
			continue
		}
		n, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		if n != nil {
			args = append(args, n)
		}
	}
	return join(OpAnd, args), nil
}

func (p *parser) unary(depth int) (*pnode, error) {
	if depth > maxDepth {
		return nil, Errorf(EINVALID, "query nests too deep (at most %d parentheses and negations)", maxDepth)
	}
	t := p.toks[p.i]
	p.i++
	switch t.kind {
	case tokNot:
		if nt, ok := p.peek(); !ok || nt.kind == tokOr || nt.kind == tokAnd || nt.kind == tokRParen {
			return nil, Errorf(EINVALID, "%s needs a term after it", t.raw)
		}
		n, err := p.unary(depth + 1)
		if err != nil || n == nil {
			return nil, err
		}
		if n.op == OpNot { // --a is a
			return n.args[0], nil
		}
		if n.op == OpTerm && n.t.key == "" && textValue(n.t) == "" {
			return nil, nil // a blank phrase: nothing to negate
		}
		return &pnode{op: OpNot, args: []*pnode{n}}, nil
	case tokLParen:
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c, ok := p.peek(); !ok || c.kind != tokRParen {
			return nil, Errorf(EINVALID, "unbalanced parenthesis: a ( is not closed")
		}
		p.i++
		if n == nil {
			return nil, Errorf(EINVALID, "empty parentheses ()")
		}
		return n, nil
	case tokTerm:
		if t.t.key == "" && textValue(t.t) == "" {
			return nil, nil
		}
		return &pnode{op: OpTerm, t: t.t}, nil
	}
	return nil, Errorf(EINVALID, "unexpected %q", t.raw)
}

// join makes an AND or OR of args, flattening nested ones of the same kind.
func join(op ExprOp, args []*pnode) *pnode {
	var flat []*pnode
	for _, a := range args {
		if a.op == op {
			flat = append(flat, a.args...)
		} else {
			flat = append(flat, a)
		}
	}
	switch len(flat) {
	case 0:
		return nil
	case 1:
		return flat[0]
	}
	return &pnode{op: op, args: flat}
}

// expr converts a parsed node into an Expr, checking its terms.
func (n *pnode) expr() (Expr, error) {
	if n.op == OpTerm {
		return termExpr(n.t)
	}
	e := Expr{Op: n.op, Args: make([]Expr, len(n.args))}
	for i, a := range n.args {
		var err error
		if e.Args[i], err = a.expr(); err != nil {
			return Expr{}, err
		}
	}
	if e.Op == OpNot && e.Args[0].Op == OpNot { // -(a != b)
		return e.Args[0].Args[0], nil
	}
	return e, nil
}

// lexQuery splits q into tokens.
func lexQuery(q string) ([]token, error) {
	var toks []token
	depth := 0
	for i := skipSpace(q, 0); i < len(q); i = skipSpace(q, i) {
		switch c := q[i]; {
		case c == '(':
			toks = append(toks, token{kind: tokLParen, raw: "("})
			depth++
			i++
			continue
		case c == ')':
			if depth == 0 {
				return nil, Errorf(EINVALID, "unbalanced parenthesis: %q has no opening (", q[i:min(len(q), i+20)])
			}
			toks = append(toks, token{kind: tokRParen, raw: ")"})
			depth--
			i++
			continue
		case c == '-' && i+1 < len(q) && !isSpaceAt(q, i+1) && q[i+1] != ')':
			toks = append(toks, token{kind: tokNot, raw: "-"})
			i++
			continue
		}
		t, next, err := lexTerm(q, i, depth)
		if err != nil {
			return nil, err
		}
		tok := token{kind: tokTerm, t: t, raw: t.raw}
		if t.key == "" && !t.quoted {
			switch t.val {
			case "OR":
				tok.kind = tokOr
			case "AND":
				tok.kind = tokAnd
			case "NOT":
				tok.kind = tokNot
			}
		}
		toks = append(toks, tok)
		i = next
	}
	return toks, nil
}

// lexTerm reads the term starting at q[start] and returns the index after
// it. Inside parentheses (depth > 0), a ) ends a bare word or value.
func lexTerm(q string, start, depth int) (term, int, error) {
	var t term
	i := start
	if key, op, ok := termKey(q[start:]); ok {
		t.key, t.field, t.op = key, strings.ToLower(key), op
		if op == "=" {
			t.op = ":"
		}
		i += len(key) + len(op)
		vals, next, err := lexValues(q, start, i, depth)
		if err != nil {
			return t, 0, err
		}
		t.vals, t.val, t.raw = vals, vals[0], q[start:next]
		return t, next, nil
	} else if key != "" {
		end := bareEnd(q, start, depth, false)
		return t, 0, Errorf(EINVALID, "unknown operator in term %q (use : = > >= < <= or !=; quote the term to search for it as text)", q[start:end])
	}
	if q[i] == '"' {
		val, next, err := lexQuoted(q, i)
		if err != nil {
			return t, 0, err
		}
		t.val, t.quoted, i = val, true, next
	} else {
		j := bareEnd(q, i, depth, false)
		t.val, i = q[i:j], j
	}
	t.vals, t.raw = []string{t.val}, q[start:i]
	if err := checkTermEnd(q, start, i, depth); err != nil {
		return t, 0, err
	}
	return t, i, nil
}

// lexValues reads a value or a comma-separated list of them, each bare or
// quoted, starting at q[i]; start is where the term began.
func lexValues(q string, start, i, depth int) ([]string, int, error) {
	var vals []string
	for {
		var v string
		if i < len(q) && q[i] == '"' {
			var err error
			if v, i, err = lexQuoted(q, i); err != nil {
				return nil, 0, err
			}
		} else {
			j := bareEnd(q, i, depth, true)
			v, i = q[i:j], j
		}
		if v == "" {
			end := bareEnd(q, start, depth, false)
			return nil, 0, Errorf(EINVALID, "empty value in term %q", q[start:end])
		}
		vals = append(vals, v)
		if i < len(q) && q[i] == ',' {
			i++
			continue
		}
		return vals, i, checkTermEnd(q, start, i, depth)
	}
}

// bareEnd returns where a bare word or value starting at q[i] ends: at a
// space, a quote, a ) inside parentheses, or (for values) a comma.
func bareEnd(q string, i, depth int, value bool) int {
	for i < len(q) && q[i] != '"' && !isSpaceAt(q, i) && !(depth > 0 && q[i] == ')') && !(value && q[i] == ',') {
		i++
	}
	return i
}

// checkTermEnd reports a term that runs on past its end (a quote in the
// middle of a word).
func checkTermEnd(q string, start, i, depth int) error {
	if i >= len(q) || isSpaceAt(q, i) || (depth > 0 && q[i] == ')') {
		return nil
	}
	end := i
	for end < len(q) && !isSpaceAt(q, end) {
		end++
	}
	return Errorf(EINVALID, "unexpected quote in term %q (quote the whole value: key:\"a b\")", q[start:end])
}

// termOps are the operators a key may be followed by, longest first.
var termOps = []string{">=", "<=", "!=", ":", "=", ">", "<"}

// termKey reports whether s starts with a key followed by an operator. A
// key is a letter or underscore, then letters, digits, underscores, dots
// and dashes. When a key is followed by an operator character that makes
// no operator (like ~ or =>... ), ok is false and key is set.
func termKey(s string) (key, op string, ok bool) {
	if s == "" || !(isASCIILetter(s[0]) || s[0] == '_') {
		return "", "", false
	}
	n := 1
	for n < len(s) && (isASCIILetter(s[n]) || s[n] == '_' || s[n] == '.' || s[n] == '-' || '0' <= s[n] && s[n] <= '9') {
		n++
	}
	rest := s[n:]
	for _, op := range termOps {
		if strings.HasPrefix(rest, op) {
			return s[:n], op, true
		}
	}
	if rest != "" && strings.ContainsRune("!~", rune(rest[0])) {
		return s[:n], "", false
	}
	return "", "", false
}

// lexQuoted reads the quoted string starting at q[start] == '"'.
func lexQuoted(q string, start int) (string, int, error) {
	var b strings.Builder
	for i := start + 1; i < len(q); i++ {
		switch c := q[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 < len(q) {
				i++
				b.WriteByte(q[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, Errorf(EINVALID, "unterminated quote in %q", q[start:])
}

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func isSpaceAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsSpace(r)
}

func skipSpace(s string, i int) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += n
	}
	return i
}

// stringKeys maps the keys of exact-match string filters (and their
// aliases, the Record's JSON names) to the field they set.
var stringKeys = map[string]func(*Filter) *string{
	"logger":     func(f *Filter) *string { return &f.Logger },
	"user":       func(f *Filter) *string { return &f.UserID },
	"user_id":    func(f *Filter) *string { return &f.UserID },
	"tenant":     func(f *Filter) *string { return &f.TenantID },
	"tenant_id":  func(f *Filter) *string { return &f.TenantID },
	"request":    func(f *Filter) *string { return &f.RequestID },
	"request_id": func(f *Filter) *string { return &f.RequestID },
	"trace":      func(f *Filter) *string { return &f.TraceID },
	"trace_id":   func(f *Filter) *string { return &f.TraceID },
	"method":     func(f *Filter) *string { return &f.Method },
	"path":       func(f *Filter) *string { return &f.Path },
	"ip":         func(f *Filter) *string { return &f.ClientIP },
	"client_ip":  func(f *Filter) *string { return &f.ClientIP },
}

// applyTerm sets the filter field that a legacy term (see legacyTerm) names.
func applyTerm(f *Filter, t term, now time.Time) error {
	switch t.field {
	case "level":
		return applyLevel(f, t)
	case "status":
		return applyStatus(f, t)
	case "kind":
		return applyKind(f, t)
	case "since", "until":
		return applyTime(f, t, now)
	}
	p := stringKeys[t.field](f)
	if *p != "" {
		return errRepeated(t)
	}
	v, err := stringValue(t, canonicalField(t.field), t.val)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

func errRepeated(t term) error {
	return Errorf(EINVALID, "term %q repeats a filter given earlier", t.raw)
}

// applyLevel handles level:X (exactly X), level>=X and level<=X.
func applyLevel(f *Filter, t term) error {
	l, err := parseLevel(t.val)
	if err != nil {
		return Errorf(EINVALID, "bad level in term %q (want debug, info, warn, error or an integer)", t.raw)
	}
	if (t.op != "<=" && f.MinLevel != nil) || (t.op != ">=" && f.MaxLevel != nil) {
		return errRepeated(t)
	}
	if t.op != "<=" {
		f.MinLevel = &l
	}
	if t.op != ">=" {
		l2 := l
		f.MaxLevel = &l2
	}
	return nil
}

// parseLevel accepts slog's names (with offsets, like warn+2), "warning",
// and integers.
func parseLevel(s string) (slog.Level, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return slog.Level(n), nil
	}
	if strings.EqualFold(s, "warning") {
		return slog.LevelWarn, nil
	}
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

// applyStatus handles status:500, status:5xx, status>=400 and status<=299.
func applyStatus(f *Filter, t term) error {
	lo, hi, ok := parseStatus(t.val, t.op)
	if !ok {
		return Errorf(EINVALID, "bad status in term %q (want a code from 100 to 999, or 1xx to 9xx)", t.raw)
	}
	if (lo != 0 && f.MinStatus != 0) || (hi != 0 && f.MaxStatus != 0) {
		return errRepeated(t)
	}
	if lo != 0 {
		f.MinStatus = lo
	}
	if hi != 0 {
		f.MaxStatus = hi
	}
	return nil
}

// parseStatus returns the bounds that a status term sets (0 for none).
func parseStatus(s, op string) (lo, hi int, ok bool) {
	if op == ":" && len(s) == 3 && strings.EqualFold(s[1:], "xx") && '1' <= s[0] && s[0] <= '9' {
		lo = int(s[0]-'0') * 100
		return lo, lo + 99, true
	}
	if len(s) != 3 {
		return 0, 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 999 {
		return 0, 0, false
	}
	switch op {
	case ">=":
		return n, 0, true
	case "<=":
		return 0, n, true
	}
	return n, n, true
}

// applyKind handles kind:request and kind:audit,security. Kinds accumulate
// over repeated terms; each kind is kept once.
func applyKind(f *Filter, t term) error {
	for _, name := range t.vals {
		k, err := ParseKind(strings.ToLower(name))
		if err != nil {
			return Errorf(EINVALID, "unknown kind %q in term %q (want app, request, audit or security)", name, t.raw)
		}
		if !slices.Contains(f.Kinds, k) {
			f.Kinds = append(f.Kinds, k)
		}
	}
	return nil
}

// applyTime handles since: and until:.
func applyTime(f *Filter, t term, now time.Time) error {
	if t.op != ":" {
		return Errorf(EINVALID, "term %q: %s takes ':' only", t.raw, t.key)
	}
	at, err := ParseSince(t.val, now)
	if err != nil {
		return Errorf(EINVALID, "bad time in term %q (want a duration like 90m or 7d, or a time like 2026-11-01T00:00:00Z)", t.raw)
	}
	p := &f.Since
	if t.key == "until" {
		p = &f.Until
	}
	if !p.IsZero() {
		return errRepeated(t)
	}
	*p = at
	return nil
}

// checkRanges rejects bounds that can match nothing, which are almost
// always a typo.
func checkRanges(f Filter) error {
	switch {
	case f.MinLevel != nil && f.MaxLevel != nil && *f.MinLevel > *f.MaxLevel:
		return Errorf(EINVALID, "level range is empty: %s is above %s", levelName(*f.MinLevel), levelName(*f.MaxLevel))
	case f.MinStatus != 0 && f.MaxStatus != 0 && f.MinStatus > f.MaxStatus:
		return Errorf(EINVALID, "status range is empty: %d is above %d", f.MinStatus, f.MaxStatus)
	case !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until):
		return Errorf(EINVALID, "time range is empty: since %s is not before until %s", formatTime(f.Since), formatTime(f.Until))
	}
	return nil
}

// ParseSince parses the time of a since/until bound: "now", a duration ago
// (90m, 36h, 7d, 1d12h; units d, h, m, s), an RFC 3339 time, or a date
// (2026-11-01, midnight UTC). The result is in UTC without a monotonic
// reading. Errors are *Error with EINVALID.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if s == "now" {
		return now.UTC(), nil
	}
	if d, ok, err := parseAgo(s); ok {
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(-d).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse(time.DateOnly, s)
	}
	if err != nil {
		return time.Time{}, Errorf(EINVALID, "bad time %q (want a duration like 90m or 7d, or a time like 2026-11-01T00:00:00Z)", s)
	}
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, Errorf(EINVALID, "time %q is out of range", s)
	}
	return t, nil
}

// ParseAge parses a duration in the units operators write ages in: 90m,
// 36h, 7d, 1d12h (units d, h, m, s), at most 36500 days. Errors are *Error
// with EINVALID.
func ParseAge(s string) (time.Duration, error) {
	d, ok, err := parseAgo(s)
	switch {
	case !ok:
		return 0, Errorf(EINVALID, "bad duration %q (want a number and a unit d, h, m or s, like 90m or 7d)", s)
	case err != nil:
		return 0, err
	}
	return d, nil
}

// agoUnits are the units of a since/until duration.
var agoUnits = map[byte]time.Duration{'d': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute, 's': time.Second}

// parseAgo parses a duration like 90m or 1d12h. ok is false when s does not
// have that shape at all (so it may be a time); err is set when it has the
// shape but is out of range.
func parseAgo(s string) (d time.Duration, ok bool, err error) {
	if s == "" {
		return 0, false, nil
	}
	for s != "" {
		i := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) || agoUnits[s[i]] == 0 {
			return 0, false, nil
		}
		n, perr := strconv.ParseInt(s[:i], 10, 64)
		unit := agoUnits[s[i]]
		if perr != nil || n > int64(maxAgo/unit) || d+time.Duration(n)*unit > maxAgo {
			err = Errorf(EINVALID, "duration is too long (at most 36500d)")
		} else {
			d += time.Duration(n) * unit
		}
		s = s[i+1:]
	}
	return d, true, err
}

// String returns f in the query language; see FormatQuery.
func (f Filter) String() string { return FormatQuery(f) }

// FormatQuery writes f in the query language, so that ParseQuery gives f
// back. Times are written as absolute RFC 3339 times in UTC. Terms come in
// a fixed order; the empty Filter is the empty string.
func FormatQuery(f Filter) string {
	var terms []string
	add := func(key, op, val string) { terms = append(terms, key+op+quoteValue(val)) }
	terms = appendLevelTerms(terms, f.MinLevel, f.MaxLevel)
	if len(f.Kinds) > 0 {
		names := make([]string, len(f.Kinds))
		for i, k := range f.Kinds {
			names[i] = k.String()
		}
		terms = append(terms, "kind:"+strings.Join(names, ","))
	}
	for _, s := range []struct{ key, val string }{
		{"logger", f.Logger}, {"user", f.UserID}, {"tenant", f.TenantID},
		{"request", f.RequestID}, {"trace", f.TraceID}, {"method", f.Method},
		{"path", f.Path}, {"ip", f.ClientIP},
	} {
		if s.val != "" {
			add(s.key, ":", s.val)
		}
	}
	terms = appendStatusTerms(terms, f.MinStatus, f.MaxStatus)
	if !f.Since.IsZero() {
		add("since", ":", formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		add("until", ":", formatTime(f.Until))
	}
	terms = appendTextTerms(terms, f.Text)
	if f.Expr != nil {
		e := f.Expr
		switch {
		case e.Op == OpAnd:
			for i := range e.Args {
				terms = append(terms, formatExpr(&e.Args[i], true))
			}
		default:
			// An OR among other terms needs parentheses: OR binds loosest.
			terms = append(terms, formatExpr(e, len(terms) > 0))
		}
	}
	return strings.Join(terms, " ")
}

func appendLevelTerms(terms []string, lo, hi *slog.Level) []string {
	switch {
	case lo != nil && hi != nil && *lo == *hi:
		return append(terms, "level:"+levelName(*lo))
	case lo != nil && hi != nil:
		return append(terms, "level>="+levelName(*lo), "level<="+levelName(*hi))
	case lo != nil:
		return append(terms, "level>="+levelName(*lo))
	case hi != nil:
		return append(terms, "level<="+levelName(*hi))
	}
	return terms
}

// levelName returns the name of one of slog's four levels, or the integer.
func levelName(l slog.Level) string {
	switch l {
	case slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError:
		return strings.ToLower(l.String())
	}
	return strconv.Itoa(int(l))
}

func appendStatusTerms(terms []string, lo, hi int) []string {
	switch {
	case lo != 0 && lo == hi:
		return append(terms, "status:"+strconv.Itoa(lo))
	case lo != 0 && lo%100 == 0 && hi == lo+99 && lo <= 900:
		return append(terms, "status:"+strconv.Itoa(lo/100)+"xx")
	}
	if lo != 0 {
		terms = append(terms, "status>="+strconv.Itoa(lo))
	}
	if hi != 0 {
		terms = append(terms, "status<="+strconv.Itoa(hi))
	}
	return terms
}

// appendTextTerms splits a full-text query into words and FTS5-style
// phrases and writes each as a term.
func appendTextTerms(terms []string, text string) []string {
	for i := skipSpace(text, 0); i < len(text); i = skipSpace(text, i) {
		if text[i] != '"' {
			j := i
			for j < len(text) && !isSpaceAt(text, j) && text[j] != '"' {
				j++
			}
			terms = append(terms, quoteText(text[i:j]))
			i = j
			continue
		}
		var b strings.Builder
		i++
		for i < len(text) {
			if text[i] == '"' {
				if i+1 < len(text) && text[i+1] == '"' {
					b.WriteByte('"')
					i += 2
					continue
				}
				i++
				break
			}
			b.WriteByte(text[i])
			i++
		}
		if strings.TrimSpace(b.String()) != "" {
			terms = append(terms, quote(b.String()))
		}
	}
	return terms
}

// quoteText writes a text word so that it parses back as the same word:
// quoted when it would read as a term, a keyword, a negation or a
// parenthesis.
func quoteText(w string) string {
	toks, err := lexQuery(w)
	if err == nil && len(toks) == 1 && toks[0].kind == tokTerm && toks[0].t.key == "" && !toks[0].t.quoted && toks[0].t.val == w {
		return w
	}
	return quote(w)
}

// quoteValue quotes a filter value when it would not parse back bare.
func quoteValue(v string) string {
	if v == "" || strings.ContainsFunc(v, func(r rune) bool { return strings.ContainsRune(`"(),`, r) || unicode.IsSpace(r) }) {
		return quote(v)
	}
	return v
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
