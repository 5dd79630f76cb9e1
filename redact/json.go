package redact

import (
	"encoding/json"
	"strings"
	"unsafe"
)

// JSON returns the JSON text b with secrets removed: the value of every
// member whose key is secret (at any depth, whatever its type) becomes the
// string "[REDACTED:key]", and every string value goes through String. It
// returns b itself when nothing changed. Text that is not valid JSON is
// treated as far as it can be read and otherwise left as it is; the
// result of valid JSON is valid JSON.
func (r *Redactor) JSON(b []byte) []byte {
	if !r.Enabled() || len(b) < 2 {
		return b
	}
	j := jsonRedactor{r: r, b: b}
	j.run()
	if j.out == nil {
		return b
	}
	return append(j.out, b[j.last:]...)
}

type jsonRedactor struct {
	r    *Redactor
	b    []byte
	out  []byte
	last int
}

func (j *jsonRedactor) replace(from, to int, repl string) {
	if j.out == nil {
		j.out = make([]byte, 0, len(j.b)+16)
	}
	j.out = append(j.out, j.b[j.last:from]...)
	j.out = append(j.out, repl...)
	j.last = to
}

func (j *jsonRedactor) run() {
	b := j.b
	secret := false // the next value belongs to a secret key
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			end := stringEnd(b, i)
			if next := skipSpace(b, end); next < len(b) && b[next] == ':' {
				key := b[i+1 : end-1]
				secret = j.r.Key(unquote(key))
				i = next + 1
				continue
			}
			if secret {
				j.secret(i, end)
			} else {
				j.stringValue(i, end)
			}
			secret = false
			i = end
		case secret && (c == '{' || c == '['):
			end := valueEnd(b, i)
			j.secret(i, end)
			secret = false
			i = end
		case secret && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ',' && c != '}' && c != ']':
			end := i
			for end < len(b) && strings.IndexByte(" \t\r\n,}]", b[end]) < 0 {
				end++
			}
			if string(b[i:end]) != "null" {
				j.secret(i, end)
			}
			secret = false
			i = end
		default:
			if c == ',' || c == '}' || c == ']' {
				secret = false
			}
			i++
		}
	}
}

func (j *jsonRedactor) secret(from, to int) {
	j.replace(from, to, `"`+Marker(RuleKey)+`"`)
	j.r.count(iKey)
}

// stringValue runs String over the string token b[from:to] (quotes
// included).
func (j *jsonRedactor) stringValue(from, to int) {
	raw := j.b[from+1 : max(to-1, from+1)]
	if len(raw) < 3 {
		return
	}
	s := unquote(raw)
	red := j.r.String(s)
	if red == s {
		return
	}
	q, err := json.Marshal(red)
	if err != nil {
		return
	}
	j.replace(from, to, string(q))
}

// unquote returns the text of a JSON string's contents (without quotes),
// decoding escapes when there are any.
func unquote(raw []byte) string {
	if !containsByte(raw, '\\') {
		// Not retained: String and Key copy what they keep.
		return unsafe.String(unsafe.SliceData(raw), len(raw))
	}
	var s string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s); err != nil {
		return string(raw)
	}
	return s
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// stringEnd returns the index after the closing quote of the string that
// starts at b[i], or len(b).
func stringEnd(b []byte, i int) int {
	for k := i + 1; k < len(b); k++ {
		switch b[k] {
		case '\\':
			k++
		case '"':
			return k + 1
		}
	}
	return len(b)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index after the object or array that starts at
// b[i], or len(b).
func valueEnd(b []byte, i int) int {
	depth := 0
	for k := i; k < len(b); k++ {
		switch b[k] {
		case '"':
			k = stringEnd(b, k) - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return k + 1
			}
		}
	}
	return len(b)
}
