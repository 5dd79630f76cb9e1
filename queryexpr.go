package sidelog

import (
	"strconv"
	"strings"
	"time"
)

// fieldAliases maps the other names of column fields (the Record's JSON
// names) to the query's.
var fieldAliases = map[string]string{
	"user_id": "user", "tenant_id": "tenant", "request_id": "request", "trace_id": "trace",
	"span_id": "span", "client_ip": "ip",
}

// canonicalField returns the query name of a column field, or "".
func canonicalField(key string) string {
	if a, ok := fieldAliases[key]; ok {
		return a
	}
	switch key {
	case "level", "kind", "status", "duration", "since", "until", "has":
		return key
	}
	if _, ok := stringColumns[key]; ok {
		return key
	}
	return ""
}

// notFields are record fields that are not filters: a term on one is an
// error that says what to do instead (attrs.NAME reaches an attribute of
// that name).
var notFields = map[string]string{
	"msg": "search its words as text", "message": "search its words as text",
	"error": "search its words as text, or use has:error", "err": "search its words as text, or use has:error",
	"time": "use since: and until:", "ts": "use since: and until:", "id": "use sidelog show ID",
	"user_agent": "search its words as text", "attrs": "name the attribute: attrs.KEY:VALUE",
}

// termExpr checks a term and makes it an Expr.
func termExpr(t term) (Expr, error) {
	if t.key == "" {
		return Expr{Op: OpTerm, Term: &Term{Field: FieldText, Values: []string{textValue(t)}}}, nil
	}
	field := canonicalField(t.field)
	if field == "" {
		if hint, ok := notFields[t.field]; ok {
			return Expr{}, Errorf(EINVALID, "%s is not a filter in term %q: %s", t.field, t.raw, hint)
		}
		path := t.key
		if len(path) > 6 && strings.EqualFold(path[:6], "attrs.") {
			path = path[6:]
		}
		return opExpr(t, &Term{Field: FieldAttr, Path: path, Op: t.op}, t.vals, nil)
	}
	switch field {
	case "since", "until":
		if t.op != ":" {
			return Expr{}, errOnlyEquals(t, field)
		}
		return Expr{}, Errorf(EINVALID, "term %q: %s: cannot be negated, listed, or put inside OR or parentheses", t.raw, field)
	case "has":
		return hasExpr(t)
	case "level":
		return opExpr(t, &Term{Field: field, Op: t.op}, t.vals, func(v string) (string, error) {
			l, ok := levelValue(v)
			if !ok {
				return "", Errorf(EINVALID, "bad level in term %q (want debug, info, warn, error or an integer)", t.raw)
			}
			return levelName(l), nil
		})
	case "status":
		return opExpr(t, &Term{Field: field, Op: t.op}, t.vals, func(v string) (string, error) {
			op := t.op
			if op == "!=" {
				op = ":"
			}
			lo, hi, ok := parseStatus(v, op)
			if !ok {
				return "", Errorf(EINVALID, "bad status in term %q (want a code from 100 to 999, or 1xx to 9xx with ':')", t.raw)
			}
			if lo != hi && lo != 0 && hi != 0 {
				return strconv.Itoa(lo/100) + "xx", nil
			}
			return strconv.Itoa(max(lo, hi)), nil
		})
	case "duration":
		return opExpr(t, &Term{Field: field, Op: t.op}, t.vals, func(v string) (string, error) {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return "", Errorf(EINVALID, "bad duration in term %q (want a positive number with a unit: 250ms, 1.5s, 2m; units ns, us, ms, s, m, h)", t.raw)
			}
			return d.String(), nil
		})
	case "kind":
		if t.op != ":" && t.op != "!=" {
			return Expr{}, errOnlyEquals(t, field)
		}
		return opExpr(t, &Term{Field: field, Op: t.op}, t.vals, func(v string) (string, error) {
			k, err := ParseKind(strings.ToLower(v))
			if err != nil {
				return "", Errorf(EINVALID, "unknown kind %q in term %q (want app, request, audit or security)", v, t.raw)
			}
			return k.String(), nil
		})
	}
	if t.op != ":" && t.op != "!=" {
		return Expr{}, errOnlyEquals(t, field)
	}
	return opExpr(t, &Term{Field: field, Op: t.op}, t.vals, func(v string) (string, error) { return stringValue(t, field, v) })
}

func errOnlyEquals(t term, field string) error {
	if field == "since" || field == "until" {
		return Errorf(EINVALID, "term %q: %s takes ':' only", t.raw, field)
	}
	return Errorf(EINVALID, "term %q: %s takes ':' only (and '!=' for not)", t.raw, field)
}

// stringValue normalizes the value of a string field.
func stringValue(t term, field, v string) (string, error) {
	switch field {
	case "method":
		return strings.ToUpper(v), nil
	case "ip":
		ip, ok := normalizeIP(v)
		if !ok {
			return "", Errorf(EINVALID, "bad IP address in term %q", t.raw)
		}
		return ip, nil
	}
	return v, nil
}

// opExpr fills term's values (normalized by norm, when set) and applies
// the operator: != is the negation of :, and a comparison takes one value.
func opExpr(t term, tm *Term, vals []string, norm func(string) (string, error)) (Expr, error) {
	if len(vals) > 1 && t.op != ":" && t.op != "!=" {
		return Expr{}, Errorf(EINVALID, "term %q: a list of values needs ':' (any of them) or '!=' (none of them)", t.raw)
	}
	for _, v := range vals {
		if norm != nil {
			var err error
			if v, err = norm(v); err != nil {
				return Expr{}, err
			}
		}
		tm.Values = append(tm.Values, v)
	}
	if tm.Op == "!=" {
		tm.Op = ":"
		return Expr{Op: OpNot, Args: []Expr{{Op: OpTerm, Term: tm}}}, nil
	}
	return Expr{Op: OpTerm, Term: tm}, nil
}

// hasExpr handles has:KEY: a column name tests the column; anything else
// (or attrs.KEY) an attribute path.
func hasExpr(t term) (Expr, error) {
	if t.op != ":" && t.op != "!=" {
		return Expr{}, errOnlyEquals(t, "has")
	}
	if len(t.vals) != 1 {
		return Expr{}, Errorf(EINVALID, "term %q: has: takes one key", t.raw)
	}
	tm := &Term{Field: FieldHas, Op: ":"}
	v := t.val
	if c := canonicalField(strings.ToLower(v)); c != "" && HasColumn(c) {
		tm.Values = []string{c}
	} else if strings.EqualFold(v, "error") || strings.EqualFold(v, "attrs") {
		tm.Values = []string{strings.ToLower(v)}
	} else {
		if len(v) > 6 && strings.EqualFold(v[:6], "attrs.") {
			v = v[6:]
		}
		tm.Path = v
	}
	if t.op == "!=" {
		return Expr{Op: OpNot, Args: []Expr{{Op: OpTerm, Term: tm}}}, nil
	}
	return Expr{Op: OpTerm, Term: tm}, nil
}

// formatExpr writes e in the query language. inner is true when e sits
// inside an AND (an OR then needs parentheses) or a negation.
func formatExpr(e *Expr, inner bool) string {
	switch e.Op {
	case OpNot:
		if len(e.Args) != 1 {
			return ""
		}
		a := &e.Args[0]
		if a.Op == OpTerm {
			return "-" + formatExpr(a, true)
		}
		return "-(" + formatExpr(a, false) + ")"
	case OpAnd, OpOr:
		parts := make([]string, len(e.Args))
		for i := range e.Args {
			parts[i] = formatExpr(&e.Args[i], e.Op == OpAnd)
		}
		sep := " "
		if e.Op == OpOr {
			sep = " OR "
		}
		s := strings.Join(parts, sep)
		if inner {
			return "(" + s + ")"
		}
		return s
	}
	if e.Term == nil {
		return ""
	}
	return formatTerm(e.Term)
}

// formatTerm writes one term.
func formatTerm(t *Term) string {
	switch t.Field {
	case FieldText:
		if len(t.Values) != 1 {
			return ""
		}
		return strings.Join(appendTextTerms(nil, t.Values[0]), " ")
	case FieldHas:
		if t.Path != "" {
			return "has:" + quoteValue(attrKey(t.Path))
		}
		return "has:" + strings.Join(t.Values, ",")
	}
	key := t.Field
	if t.Field == FieldAttr {
		key = attrKey(t.Path)
	}
	vals := make([]string, len(t.Values))
	for i, v := range t.Values {
		vals[i] = quoteValue(v)
	}
	return key + t.Op + strings.Join(vals, ",")
}

// attrKey writes an attribute path so that it reads back as that
// attribute: bare when it is a plain key that names no field, after
// "attrs." otherwise (or quoted when it cannot be written as a key).
func attrKey(path string) string {
	if k, _, ok := termKey(path + ":"); ok && k == path {
		lower := strings.ToLower(path)
		if canonicalField(lower) == "" && notFields[lower] == "" && !strings.HasPrefix(lower, "attrs.") {
			return path
		}
		return "attrs." + path
	}
	return "attrs." + path
}
