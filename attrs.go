package sidelog

import (
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// AttrKind is the JSON type of an attribute value.
type AttrKind uint8

// The kinds of attribute value.
const (
	AttrString AttrKind = iota
	AttrNumber
	AttrBool
	AttrNull
)

// AttrValue is one scalar in a record's attributes.
type AttrValue struct {
	Kind AttrKind
	// Text is the value as the query language compares it: a string's
	// text, a number in canonical form (integers without a fraction,
	// others in Go's shortest form: 4, 4.5, 1e+30), "true", "false" or
	// "null".
	Text string
	Num  float64 // the number, for AttrNumber
}

// WalkAttrs calls fn for every scalar in the JSON object attrs, with its
// dotted path: {"http":{"client":{"os":"linux"}}} gives http.client.os.
// Array elements take the array's path ({"tags":["a","b"]} gives tags
// twice), so a term on tags matches any element. Objects and arrays with
// nothing inside give nothing. Malformed JSON is walked as far as it
// parses; fn returning false stops the walk.
func WalkAttrs(attrs []byte, fn func(path string, v AttrValue) bool) {
	w := attrWalker{b: attrs, fn: fn}
	w.skipSpace()
	if w.i < len(w.b) && w.b[w.i] == '{' {
		w.value("")
	}
}

// attrWalker is a small JSON reader: attributes are read on every write
// (for the index) and every walked row of an attribute query, where
// encoding/json's reflection would cost several times more.
type attrWalker struct {
	b    []byte
	i    int
	fn   func(string, AttrValue) bool
	stop bool
	bad  bool
}

func (w *attrWalker) skipSpace() {
	for w.i < len(w.b) && (w.b[w.i] == ' ' || w.b[w.i] == '\n' || w.b[w.i] == '\t' || w.b[w.i] == '\r') {
		w.i++
	}
}

func (w *attrWalker) emit(path string, v AttrValue) {
	if !w.stop && !w.fn(path, v) {
		w.stop = true
	}
}

// value reads one JSON value at w.i, reporting scalars under path.
func (w *attrWalker) value(path string) {
	w.skipSpace()
	if w.i >= len(w.b) || w.stop || w.bad {
		w.bad = true
		return
	}
	switch c := w.b[w.i]; {
	case c == '{':
		w.object(path)
	case c == '[':
		w.i++
		for first := true; !w.stop && !w.bad; first = false {
			w.skipSpace()
			if w.i < len(w.b) && w.b[w.i] == ']' {
				w.i++
				return
			}
			if !first {
				if !w.expect(',') {
					return
				}
			}
			w.value(path)
		}
	case c == '"':
		s, ok := w.str()
		if ok {
			w.emit(path, AttrValue{Kind: AttrString, Text: s})
		}
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range [...]struct {
			s string
			v AttrValue
		}{{"true", AttrValue{Kind: AttrBool, Text: "true"}}, {"false", AttrValue{Kind: AttrBool, Text: "false"}}, {"null", AttrValue{Kind: AttrNull, Text: "null"}}} {
			if len(w.b)-w.i >= len(lit.s) && string(w.b[w.i:w.i+len(lit.s)]) == lit.s {
				w.i += len(lit.s)
				w.emit(path, lit.v)
				return
			}
		}
		w.bad = true
	default:
		j := w.i
		for j < len(w.b) && (w.b[j] == '-' || w.b[j] == '+' || w.b[j] == '.' || w.b[j] == 'e' || w.b[j] == 'E' || '0' <= w.b[j] && w.b[j] <= '9') {
			j++
		}
		f, err := strconv.ParseFloat(string(w.b[w.i:j]), 64)
		if j == w.i || err != nil {
			w.bad = true
			return
		}
		w.i = j
		w.emit(path, AttrValue{Kind: AttrNumber, Text: FormatAttrNumber(f), Num: f})
	}
}

func (w *attrWalker) object(path string) {
	w.i++ // {
	for first := true; !w.stop && !w.bad; first = false {
		w.skipSpace()
		if w.i < len(w.b) && w.b[w.i] == '}' {
			w.i++
			return
		}
		if !first && !w.expect(',') {
			return
		}
		w.skipSpace()
		if w.i >= len(w.b) || w.b[w.i] != '"' {
			w.bad = true
			return
		}
		key, ok := w.str()
		if !ok || !w.expect(':') {
			w.bad = true
			return
		}
		if path != "" {
			key = path + "." + key
		}
		w.value(key)
	}
}

func (w *attrWalker) expect(c byte) bool {
	w.skipSpace()
	if w.i < len(w.b) && w.b[w.i] == c {
		w.i++
		return true
	}
	w.bad = true
	return false
}

// str reads the JSON string at w.i (which is '"').
func (w *attrWalker) str() (string, bool) {
	start := w.i + 1
	j := start
	for j < len(w.b) && w.b[j] != '"' && w.b[j] != '\\' {
		j++
	}
	if j < len(w.b) && w.b[j] == '"' {
		w.i = j + 1
		return string(w.b[start:j]), true
	}
	buf := append([]byte(nil), w.b[start:j]...)
	for j < len(w.b) {
		switch c := w.b[j]; c {
		case '"':
			w.i = j + 1
			return string(buf), true
		case '\\':
			if j+1 >= len(w.b) {
				w.bad = true
				return "", false
			}
			j++
			switch e := w.b[j]; e {
			case 'n':
				buf = append(buf, '\n')
			case 't':
				buf = append(buf, '\t')
			case 'r':
				buf = append(buf, '\r')
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'u':
				r, n := w.hex4(j + 1)
				if n == 0 {
					w.bad = true
					return "", false
				}
				j += n
				if utf16.IsSurrogate(r) {
					if r2, n2 := w.hex4(j + 3); n2 > 0 && j+2 < len(w.b) && w.b[j+1] == '\\' && w.b[j+2] == 'u' {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							r, j = d, j+2+n2
						} else {
							r = utf8.RuneError
						}
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				buf = append(buf, e)
			}
			j++
		default:
			buf = append(buf, c)
			j++
		}
	}
	w.bad = true
	return "", false
}

// hex4 reads four hex digits at b[at:]; n is 4, or 0 when they are not.
func (w *attrWalker) hex4(at int) (rune, int) {
	if at+4 > len(w.b) {
		return 0, 0
	}
	v, err := strconv.ParseUint(string(w.b[at:at+4]), 16, 32)
	if err != nil {
		return 0, 0
	}
	return rune(v), 4
}

// FormatAttrNumber writes a number the way the query language compares
// attribute numbers: integers (up to 2^53) without a fraction or exponent,
// others in Go's shortest 'g' form.
func FormatAttrNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// attrPrefixes calls fn for path and each path it is nested in
// (a.b.c, a.b, a).
func attrPrefixes(path string, fn func(string)) {
	for {
		fn(path)
		i := lastDot(path)
		if i < 0 {
			return
		}
		path = path[:i]
	}
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

// AttrPaths calls fn once for every path present in attrs: the paths of
// its scalars and of the objects they are nested in. has:PATH is true for
// exactly these.
func AttrPaths(attrs []byte, fn func(path string)) {
	seen := map[string]bool{}
	WalkAttrs(attrs, func(path string, _ AttrValue) bool {
		attrPrefixes(path, func(p string) {
			if !seen[p] {
				seen[p] = true
				fn(p)
			}
		})
		return true
	})
}
