package sqlite

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	msqlite "modernc.org/sqlite"

	"github.com/sidelog/sidelog"
)

// Attribute terms are evaluated in SQL by two functions written in Go with
// the root package's rules, so the store and sidelog.Filter.Match cannot
// disagree: sidelog_attr(attrs, term) and sidelog_has(attrs, path). term is
// the Term encoded by encodeAttrTerm.
func init() {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(msqlite.RegisterDeterministicScalarFunction("sidelog_attr", 2, func(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		t := decodeAttrTerm(textArg(args[1]))
		return boolInt(t != nil && t.Match(&sidelog.Record{Attrs: []byte(textArg(args[0]))})), nil
	}))
	must(msqlite.RegisterDeterministicScalarFunction("sidelog_has", 2, func(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		t := sidelog.Term{Field: sidelog.FieldHas, Op: ":", Path: textArg(args[1])}
		if args[1] == nil {
			t.Path, t.Values = "", []string{"attrs"}
		}
		return boolInt(t.Match(&sidelog.Record{Attrs: []byte(textArg(args[0]))})), nil
	}))
}

func textArg(v driver.Value) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// encodeAttrTerm writes an attribute term as one SQL argument: a JSON
// array of path, operator and values (SQLite would cut text at a NUL).
func encodeAttrTerm(t *sidelog.Term) string {
	b, _ := json.Marshal(append([]string{t.Path, t.Op}, t.Values...))
	return string(b)
}

// attrTerms caches decoded terms: a walk calls sidelog_attr once per row.
var attrTerms sync.Map

func decodeAttrTerm(s string) *sidelog.Term {
	if t, ok := attrTerms.Load(s); ok {
		return t.(*sidelog.Term)
	}
	var f []string
	if json.Unmarshal([]byte(s), &f) != nil || len(f) < 3 {
		return nil
	}
	t := &sidelog.Term{Field: sidelog.FieldAttr, Path: f[0], Op: f[1], Values: f[2:]}
	attrTerms.Store(s, t)
	return t
}

// exprSQL writes e as an SQL condition on logs l that is exactly e: never
// NULL, so that NOT and OR mean what they say for missing values.
func exprSQL(w *where, e *sidelog.Expr) error {
	switch e.Op {
	case sidelog.OpAnd, sidelog.OpOr:
		sep := " AND "
		if e.Op == sidelog.OpOr {
			sep = " OR "
		}
		parts := make([]string, len(e.Args))
		for i := range e.Args {
			sub := &where{}
			if err := exprSQL(sub, &e.Args[i]); err != nil {
				return err
			}
			parts[i] = "(" + strings.Join(sub.conds, " AND ") + ")"
			w.args = append(w.args, sub.args...)
		}
		w.conds = append(w.conds, "("+strings.Join(parts, sep)+")")
		return nil
	case sidelog.OpNot:
		if len(e.Args) != 1 {
			return sidelog.Errorf(sidelog.EINVALID, "a negation takes one operand")
		}
		sub := &where{}
		if err := exprSQL(sub, &e.Args[0]); err != nil {
			return err
		}
		w.add("NOT ("+strings.Join(sub.conds, " AND ")+")", sub.args...)
		return nil
	}
	if e.Term == nil {
		return sidelog.Errorf(sidelog.EINVALID, "an empty term")
	}
	return termSQL(w, e.Term)
}

// dictColumns are the columns stored as dict ids.
var dictColumns = map[string]string{"logger": "logger", "method": "method", "path": "path", "route": "route"}

// textColumns are the columns stored as text, by query field.
var textColumns = map[string]string{
	"user": "user_id", "tenant": "tenant_id", "request": "request_id", "trace": "trace_id",
	"span": "span_id", "ip": "client_ip",
}

// hasSQL are the conditions of has: on columns.
var hasSQL = map[string]string{
	"logger": "l.logger IS NOT NULL", "user": "l.user_id IS NOT NULL", "tenant": "l.tenant_id IS NOT NULL",
	"request": "l.request_id IS NOT NULL", "trace": "l.trace_id IS NOT NULL", "span": "l.span_id IS NOT NULL",
	"method": "l.method IS NOT NULL", "path": "l.path IS NOT NULL", "route": "l.route IS NOT NULL",
	"ip": "l.client_ip IS NOT NULL", "status": "l.status IS NOT NULL", "duration": "l.duration IS NOT NULL",
	"error": "l.err IS NOT NULL",
}

var sqlOps = map[string]string{":": "=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}

func termSQL(w *where, t *sidelog.Term) error {
	op, ok := sqlOps[t.Op]
	if t.Field != sidelog.FieldText && t.Field != sidelog.FieldHas && !ok {
		return sidelog.Errorf(sidelog.EINVALID, "unknown operator %q", t.Op)
	}
	if len(t.Values) == 0 && t.Field != sidelog.FieldHas {
		return sidelog.Errorf(sidelog.EINVALID, "term on %s has no value", t.Field)
	}
	bad := func(v string) error {
		return sidelog.Errorf(sidelog.EINVALID, "bad %s value %q", t.Field, v)
	}
	anyOf := func(each func(v string) (string, []any, error)) error {
		var conds []string
		var args []any
		for _, v := range t.Values {
			c, a, err := each(v)
			if err != nil {
				return err
			}
			conds, args = append(conds, c), append(args, a...)
		}
		w.add("("+strings.Join(conds, " OR ")+")", args...)
		return nil
	}
	switch t.Field {
	case sidelog.FieldText:
		fq, err := ftsQuery(t.Values[0])
		if err != nil {
			w.add("0")
			return nil //nolint:nilerr // no words: matches nothing, as in Filter.Match
		}
		w.add(`(l.msg IN (SELECT rowid FROM msgs_fts WHERE msgs_fts MATCH ?)
			OR (l.err IS NOT NULL AND l.err IN (SELECT rowid FROM msgs_fts WHERE msgs_fts MATCH ?))
			OR l.id IN (SELECT rowid FROM attrs_fts WHERE attrs_fts MATCH ?))`, fq, fq, fq)
		return nil
	case sidelog.FieldHas:
		if t.Path != "" || len(t.Values) == 0 {
			w.add("(l.attrs IS NOT NULL AND sidelog_has(l.attrs, ?))", t.Path)
			return nil
		}
		if t.Values[0] == "attrs" {
			w.add("(l.attrs IS NOT NULL AND sidelog_has(l.attrs, NULL))")
			return nil
		}
		c, ok := hasSQL[t.Values[0]]
		if !ok {
			return bad(t.Values[0])
		}
		w.add(c)
		return nil
	case sidelog.FieldAttr:
		w.add("(l.attrs IS NOT NULL AND sidelog_attr(l.attrs, ?))", encodeAttrTerm(t))
		return nil
	case "level":
		return anyOf(func(v string) (string, []any, error) {
			l, err := parseLevel(v)
			if err != nil {
				return "", nil, bad(v)
			}
			return "l.level " + op + " ?", []any{int64(l)}, nil
		})
	case "kind":
		return anyOf(func(v string) (string, []any, error) {
			k, err := sidelog.ParseKind(v)
			if err != nil {
				return "", nil, bad(v)
			}
			return "l.kind = ?", []any{int64(k)}, nil
		})
	case "status":
		return anyOf(func(v string) (string, []any, error) {
			if t.Op == ":" && len(v) == 3 && strings.EqualFold(v[1:], "xx") && '1' <= v[0] && v[0] <= '9' {
				lo := int64(v[0]-'0') * 100
				return "(l.status IS NOT NULL AND l.status BETWEEN ? AND ?)", []any{lo, lo + 99}, nil
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return "", nil, bad(v)
			}
			return "(l.status IS NOT NULL AND l.status " + op + " ?)", []any{n}, nil
		})
	case "duration":
		return anyOf(func(v string) (string, []any, error) {
			d, err := time.ParseDuration(v)
			if err != nil {
				return "", nil, bad(v)
			}
			return "(l.duration IS NOT NULL AND l.duration " + op + " ?)", []any{int64(d)}, nil
		})
	}
	if col, ok := textColumns[t.Field]; ok {
		return anyOf(func(v string) (string, []any, error) {
			return "(l." + col + " IS NOT NULL AND l." + col + " " + op + " ?)", []any{v}, nil
		})
	}
	col, ok := dictColumns[t.Field]
	if !ok {
		return sidelog.Errorf(sidelog.EINVALID, "unknown field %q", t.Field)
	}
	if t.Op != ":" {
		return anyOf(func(v string) (string, []any, error) {
			return "(l." + col + " IS NOT NULL AND (SELECT s FROM dict WHERE id = l." + col + ") " + op + " ?)", []any{v}, nil
		})
	}
	var conds []string
	var args []any
	for _, v := range t.Values {
		prefix, isPrefix := strings.CutSuffix(v, "*")
		switch {
		case isPrefix && (t.Field == "path" || t.Field == "route"):
			conds, args = append(conds, "(s >= ? AND s < ?)"), append(args, prefix, prefix+"\U0010FFFF")
		default:
			conds, args = append(conds, "s = ?"), append(args, v)
		}
	}
	w.add("(l."+col+" IS NOT NULL AND l."+col+" IN (SELECT id FROM dict WHERE "+strings.Join(conds, " OR ")+"))", args...)
	return nil
}

// parseLevel reads a level as the query language normalizes it.
func parseLevel(s string) (slog.Level, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return slog.Level(n), nil
	}
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

// candidates returns an FTS5 query on attrs_fts whose matches include
// every row that can match e, or "" when the index cannot narrow e down
// (then e is checked on every row walked).
func candidates(e *sidelog.Expr) string {
	switch e.Op {
	case sidelog.OpAnd:
		var parts []string
		for i := range e.Args {
			if c := candidates(&e.Args[i]); c != "" {
				parts = append(parts, "("+c+")")
			}
		}
		return strings.Join(parts, " AND ")
	case sidelog.OpOr:
		parts := make([]string, len(e.Args))
		for i := range e.Args {
			if parts[i] = candidates(&e.Args[i]); parts[i] == "" {
				return ""
			}
			parts[i] = "(" + parts[i] + ")"
		}
		return strings.Join(parts, " OR ")
	case sidelog.OpTerm:
		if e.Term != nil {
			return termCandidates(e.Term)
		}
	}
	return ""
}

func termCandidates(t *sidelog.Term) string {
	switch {
	case t.Field == sidelog.FieldHas && t.Path != "":
		return ftsString(keyToken(t.Path))
	case t.Field != sidelog.FieldAttr:
		return ""
	case t.Op != ":":
		return ftsString(keyToken(t.Path))
	}
	var alts []string
	for _, v := range t.Values {
		var a []string
		if w := rarestWord(v); w != "" {
			// One word of the value finds a superset of the rows whose
			// value is v (each row is then checked); one word is one seek
			// in the index, where the whole phrase and the key were three
			// or more, for every file a rare term is looked up in.
			a = append(a, ftsString(w))
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil && sidelog.AttrValueMatches(sidelog.AttrValue{Kind: sidelog.AttrNumber, Num: f, Text: sidelog.FormatAttrNumber(f)}, ":", v) {
			a = append(a, ftsString(valueToken(t.Path, sidelog.FormatAttrNumber(f))))
		}
		if v == "true" || v == "false" || v == "null" {
			a = append(a, ftsString(valueToken(t.Path, v)))
		}
		if len(a) == 0 {
			return ftsString(keyToken(t.Path)) // no words: only the key narrows it
		}
		alts = append(alts, a...)
	}
	return strings.Join(alts, " OR ")
}

// rarestWord returns the word of s (as the full-text tokenizer splits it:
// runs of letters and digits) most likely to be rare: the longest with a
// digit, else the longest; "" when s has none.
func rarestWord(s string) string {
	best, bestDigit := "", false
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }) {
		digit := strings.IndexFunc(w, unicode.IsDigit) >= 0
		if (digit && !bestDigit) || (digit == bestDigit && len(w) > len(best)) {
			best, bestDigit = w, digit
		}
	}
	return best
}

// ftsString quotes a token for an FTS5 query.
func ftsString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// candidateLimit is how many candidate rows of a file make the index not
// worth it: past it, walking rowids and checking each row finds the newest
// matches sooner than collecting every candidate.
const candidateLimit = 1000

// candidateIDs runs the FTS query on the file's attribute index once and
// returns the matching rowids as a JSON array for json_each, with their
// number, when there are fewer than candidateLimit; past that it returns
// "" and candidateLimit (walking rowids is then the better plan).
func candidateIDs(ctx context.Context, r queryer, fq string) (string, int, error) {
	var ids string
	var n int
	err := r.QueryRowContext(ctx, `SELECT coalesce(json_group_array(rowid), '[]'), count(*) FROM (SELECT rowid FROM attrs_fts WHERE attrs_fts MATCH ? LIMIT ?)`, fq, candidateLimit).Scan(&ids, &n)
	if err != nil || n >= candidateLimit {
		return "", n, err
	}
	return ids, n, nil
}
