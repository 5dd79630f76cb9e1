package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sidelog/sidelog"
)

// Logfmt writes one record per line as key=value pairs: the fixed fields
// first, then the attributes, nested objects flattened with dots
// (http.req.id=7). Values with spaces, quotes, equals signs, control
// characters or invalid UTF-8 are quoted with Go escapes, so that a log
// value can never start a new line or an ANSI sequence.
type Logfmt struct {
	bw  *bufio.Writer
	buf []byte
}

// NewLogfmt returns a logfmt writer to w.
func NewLogfmt(w io.Writer) *Logfmt {
	return &Logfmt{bw: bufio.NewWriterSize(w, 64<<10)}
}

// Write implements Writer.
func (l *Logfmt) Write(r sidelog.Record) error {
	l.buf = AppendLogfmt(l.buf[:0], r)
	l.buf = append(l.buf, '\n')
	_, err := l.bw.Write(l.buf)
	return err
}

// Flush implements Writer.
func (l *Logfmt) Flush() error { return l.bw.Flush() }

// Close implements Writer.
func (l *Logfmt) Close() error { return l.bw.Flush() }

// AppendLogfmt appends r in logfmt to b, without a newline: time, level,
// kind and msg, then AppendDetails.
func AppendLogfmt(b []byte, r sidelog.Record) []byte {
	b = appendKey(b, "time")
	b = append(b, '=')
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = appendPair(b, "level", r.Level.String())
	b = appendPair(b, "kind", r.Kind.String())
	b = appendPair(b, "msg", r.Message)
	return AppendDetails(b, r)
}

// AppendDetails appends the record's fields other than time, level, kind
// and msg as " key=value" pairs: the fields that are set, in the order of
// Columns, then the attributes.
func AppendDetails(b []byte, r sidelog.Record) []byte {
	for _, p := range [...]struct{ k, v string }{
		{"logger", r.Logger}, {"request_id", r.RequestID}, {"trace_id", r.TraceID},
		{"span_id", r.SpanID}, {"user_id", r.UserID}, {"tenant_id", r.TenantID},
		{"method", r.Method}, {"path", r.Path}, {"route", r.Route},
	} {
		if p.v != "" {
			b = appendPair(b, p.k, p.v)
		}
	}
	if r.Status != 0 {
		b = appendPair(b, "status", strconv.Itoa(r.Status))
	}
	if r.Duration != 0 {
		b = appendPair(b, "duration", r.Duration.String())
	}
	for _, p := range [...]struct{ k, v string }{{"client_ip", r.ClientIP}, {"user_agent", r.UserAgent}, {"error", r.Error}} {
		if p.v != "" {
			b = appendPair(b, p.k, p.v)
		}
	}
	if len(r.Attrs) > 0 {
		b = appendAttrs(b, "", r.Attrs)
	}
	return b
}

// appendAttrs flattens the JSON object raw into pairs with keys under prefix.
// Anything that is not an object is written as one pair of JSON text.
func appendAttrs(b []byte, prefix string, raw json.RawMessage) []byte {
	var obj orderedObject
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		key := strings.TrimSuffix(prefix, ".")
		if key == "" {
			key = "attrs"
		}
		return appendPair(b, key, jsonText(raw))
	}
	for _, kv := range obj {
		if len(kv.v) > 0 && kv.v[0] == '{' {
			b = appendAttrs(b, prefix+kv.k+".", kv.v)
			continue
		}
		b = appendPair(b, prefix+kv.k, jsonText(kv.v))
	}
	return b
}

// jsonText returns a JSON string's content, or any other value as text.
func jsonText(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	var c bytes.Buffer
	if json.Compact(&c, raw) == nil {
		return c.String()
	}
	return string(raw)
}

// orderedObject decodes a JSON object keeping the order of its keys; it is
// nil for JSON that is not an object.
type orderedObject []struct {
	k string
	v json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *orderedObject) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return err
	}
	*o = orderedObject{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		*o = append(*o, struct {
			k string
			v json.RawMessage
		}{t.(string), v})
	}
	return nil
}

func appendPair(b []byte, k, v string) []byte {
	b = append(b, ' ')
	b = appendKey(b, k)
	b = append(b, '=')
	if needsQuote(v) {
		return strconv.AppendQuote(b, v)
	}
	return append(b, v...)
}

// appendKey writes k with every character that would break the pair (space,
// =, quote, control, invalid UTF-8) replaced by an underscore.
func appendKey(b []byte, k string) []byte {
	if k == "" {
		return append(b, '_')
	}
	for i, r := range k {
		if r == '=' || r == '"' || !unicode.IsPrint(r) || unicode.IsSpace(r) || r == utf8.RuneError && isBadByte(k, i) {
			b = append(b, '_')
			continue
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

func isBadByte(s string, i int) bool {
	_, n := utf8.DecodeRuneInString(s[i:])
	return n == 1
}

func needsQuote(v string) bool {
	if v == "" {
		return true
	}
	for i, r := range v {
		if r == '=' || r == '"' || r == '\\' || unicode.IsSpace(r) || !unicode.IsPrint(r) || r == utf8.RuneError && isBadByte(v, i) {
			return true
		}
	}
	return false
}
