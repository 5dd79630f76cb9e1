package sidelog

import (
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The query language shared by the CLI and the admin UI. A query is a list
// of terms separated by spaces and combined with AND:
//
//	level:warn  level>=warn  level<=info     debug, info, warn, error, or an integer
//	kind:request  kind:audit,security        any of the kinds
//	logger:NAME  user:ID  tenant:ID  request:ID  trace:ID  method:GET  ip:ADDR
//	path:/api/users  path:/api/*             exact, or a prefix when it ends in *
//	status:500  status:5xx  status>=400  status<=299
//	since:90m  since:7d  since:2026-11-01T00:00:00Z  until:...
//	words "quoted phrases" prefix*           full-text search (Filter.Text)
//
// A value with spaces is quoted: path:"/a b"; inside quotes a backslash
// escapes the next character. Each filter may be given once, except kind.
// A word that looks like key:value with an unknown key is an error rather
// than text, so that a typo does not silently turn into a search; quote it
// ("http://x") to search for it.

// maxQueryLen bounds a query so that a pasted blob cannot make the parser or
// the store do unbounded work.
const maxQueryLen = 4096

// maxAgo bounds the durations of since: and until: (100 years), which keeps
// the computed times inside the years RFC 3339 can write.
const maxAgo = 100 * 365 * 24 * time.Hour

// term is one lexed term of a query.
type term struct {
	key    string // lowercase key; "" for a text word or phrase
	op     string // ":", ">=" or "<="; "" for text
	val    string // the value, unquoted
	raw    string // the term as written, for error messages
	quoted bool
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
	terms, err := lexQuery(q)
	if err != nil {
		return Filter{}, err
	}
	var text []string
	for _, t := range terms {
		if t.key == "" {
			text = appendText(text, t)
			continue
		}
		if err := applyTerm(&f, t, now); err != nil {
			return Filter{}, err
		}
	}
	f.Text = strings.Join(text, " ")
	if err := checkRanges(f); err != nil {
		return Filter{}, err
	}
	return f, nil
}

// appendText adds a text word, or a phrase in the FTS5 form ("" for a quote
// inside it), to the full-text terms. Blank phrases are dropped.
func appendText(text []string, t term) []string {
	switch {
	case !t.quoted:
		return append(text, t.val)
	case strings.TrimSpace(t.val) == "":
		return text
	}
	return append(text, `"`+strings.ReplaceAll(t.val, `"`, `""`)+`"`)
}

// lexQuery splits q into terms.
func lexQuery(q string) ([]term, error) {
	var terms []term
	i := skipSpace(q, 0)
	for i < len(q) {
		t, next, err := lexTerm(q, i)
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
		i = skipSpace(q, next)
	}
	return terms, nil
}

// lexTerm reads the term starting at q[start] and returns the index after it.
func lexTerm(q string, start int) (term, int, error) {
	var t term
	i := start
	if key, op, ok := termKey(q[start:]); ok {
		t.key, t.op = strings.ToLower(key), op
		i += len(key) + len(op)
	}
	if i < len(q) && q[i] == '"' {
		val, next, err := lexQuoted(q, i)
		if err != nil {
			return t, 0, err
		}
		t.val, t.quoted, i = val, true, next
	} else {
		j := i
		for j < len(q) && q[j] != '"' && !isSpaceAt(q, j) {
			j++
		}
		t.val, i = q[i:j], j
	}
	t.raw = q[start:i]
	if i < len(q) && !isSpaceAt(q, i) {
		end := i
		for end < len(q) && !isSpaceAt(q, end) {
			end++
		}
		return t, 0, Errorf(EINVALID, "unexpected quote in term %q (quote the whole value: key:\"a b\")", q[start:end])
	}
	return t, i, nil
}

// termKey reports whether s starts with key followed by an operator: a
// letter, then letters, digits or underscores, then ":", ">=" or "<=".
func termKey(s string) (key, op string, ok bool) {
	if s == "" || !isASCIILetter(s[0]) {
		return "", "", false
	}
	n := 1
	for n < len(s) && (isASCIILetter(s[n]) || s[n] == '_' || '0' <= s[n] && s[n] <= '9') {
		n++
	}
	rest := s[n:]
	for _, op := range []string{":", ">=", "<="} {
		if strings.HasPrefix(rest, op) {
			return s[:n], op, true
		}
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

// otherKeys are the keys with a parser of their own.
var otherKeys = []string{"level", "status", "kind", "since", "until"}

// applyTerm sets the filter field that t names.
func applyTerm(f *Filter, t term, now time.Time) error {
	field, isString := stringKeys[t.key]
	switch {
	case !isString && !slices.Contains(otherKeys, t.key):
		return Errorf(EINVALID, "unknown filter %q in term %q (quote the term to search for it as text)", t.key, t.raw)
	case t.val == "":
		return Errorf(EINVALID, "empty value in term %q", t.raw)
	}
	switch t.key {
	case "level":
		return applyLevel(f, t)
	case "status":
		return applyStatus(f, t)
	case "kind":
		return applyKind(f, t)
	case "since", "until":
		return applyTime(f, t, now)
	}
	if t.op != ":" {
		return Errorf(EINVALID, "term %q: %s takes ':' only", t.raw, t.key)
	}
	p := field(f)
	if *p != "" {
		return errRepeated(t)
	}
	*p = t.val
	switch t.key {
	case "method":
		*p = strings.ToUpper(t.val)
	case "ip", "client_ip":
		a, err := netip.ParseAddr(t.val)
		if err != nil {
			return Errorf(EINVALID, "bad IP address in term %q", t.raw)
		}
		*p = a.String()
	}
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
	if t.op != ":" {
		return Errorf(EINVALID, "term %q: kind takes ':' only", t.raw)
	}
	for name := range strings.SplitSeq(t.val, ",") {
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
		add("kind", ":", strings.Join(names, ","))
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

// quoteText writes a text word so that it parses back as text.
func quoteText(w string) string {
	if _, _, isKey := termKey(w); isKey {
		return quote(w)
	}
	return w
}

// quoteValue quotes a filter value when it would not parse back bare.
func quoteValue(v string) string {
	if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r == '"' || unicode.IsSpace(r) }) {
		return quote(v)
	}
	return v
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
