package handler

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sidelog/sidelog/redact"
)

// Room the encoder keeps inside MaxAttrsBytes for the truncation marker
// and the final brace (closing braces of open groups come on top, one byte
// per level).
const (
	markerRoom    = 96
	minAttrsBytes = 256
	maxKeyBytes   = 1024 // keys are cut to this length
	markerKey     = "!truncated"
)

// encoder writes attributes as one JSON object within caps on its size,
// the number of attributes and the nesting depth. What does not fit is
// dropped and counted, and a "!truncated" member says how much. The output
// is always valid JSON and valid UTF-8; NUL characters are removed.
//
// It is used by one goroutine at a time and reuses its buffer.
type encoder struct {
	buf      []byte
	limit    int // the object's content may not grow past this length
	maxAttrs int
	maxDepth int

	count        int   // leaves written
	depth        int   // groups open in buf
	over         int   // groups "open" beyond maxDepth, not written
	full         bool  // the size cap was reached; later leaves are dropped
	comma        bool  // the current object already has a member
	stack        []grp // the groups open in buf
	droppedAttrs int
	droppedBytes int64
	arena        []byte // finished objects are copied here: one allocation for many records
	red          *redact.Redactor
}

// arenaSize is the size of the chunks finished objects are copied into.
const arenaSize = 64 << 10

type grp struct {
	mark  int  // len(buf) before the group's key
	comma bool // the parent's comma flag before the group
}

func newEncoder(o *Options) *encoder {
	return &encoder{
		limit:    o.MaxAttrsBytes - markerRoom - o.MaxDepth,
		maxAttrs: o.MaxAttrs,
		maxDepth: o.MaxDepth,
		red:      o.Redactor,
	}
}

func (e *encoder) reset() {
	e.buf = append(e.buf[:0], '{')
	e.count, e.depth, e.over = 0, 0, 0
	e.full, e.comma = false, false
	e.stack = e.stack[:0]
	e.droppedAttrs, e.droppedBytes = 0, 0
}

// attr encodes a. Groups with an empty key are inlined; empty attributes
// and empty groups are left out.
func (e *encoder) attr(a slog.Attr) {
	v := a.Value
	if v.Kind() == slog.KindLogValuer {
		v = safeResolve(v)
	}
	if v.Kind() != slog.KindGroup {
		if a.Key == "" && v.Kind() == slog.KindAny && v.Any() == nil {
			return
		}
		e.leaf(a.Key, v)
		return
	}
	as := v.Group()
	if len(as) == 0 {
		return
	}
	if a.Key != "" && e.red.Key(a.Key) {
		e.leaf(a.Key, v) // the whole group is secret
		return
	}
	if a.Key != "" {
		if e.over > maxResolveDepth {
			e.drop(attrCost(a, 0))
			return
		}
		e.open(a.Key)
		defer e.close()
	}
	for _, g := range as {
		e.attr(g)
	}
}

func (e *encoder) drop(n int64, _ bool) {
	e.droppedAttrs++
	e.droppedBytes += n
}

// open starts a group; close ends it, removing it again if it stayed empty.
func (e *encoder) open(key string) {
	if e.over > 0 || e.depth >= e.maxDepth {
		e.over++
		return
	}
	e.stack = append(e.stack, grp{mark: len(e.buf), comma: e.comma})
	e.member(key, maxKeyBytes)
	e.buf = append(e.buf, '{')
	e.depth++
	e.comma = false
}

func (e *encoder) close() {
	if e.over > 0 {
		e.over--
		return
	}
	g := e.stack[len(e.stack)-1]
	e.stack = e.stack[:len(e.stack)-1]
	e.depth--
	if !e.comma {
		e.buf, e.comma = e.buf[:g.mark], g.comma
		return
	}
	e.buf = append(e.buf, '}')
	e.comma = true
}

// member writes the separator and the key of a new member.
func (e *encoder) member(key string, keyMax int) {
	if e.comma {
		e.buf = append(e.buf, ',')
	}
	e.buf = appendString(e.buf, key, keyMax)
	e.buf = append(e.buf, ':')
}

func (e *encoder) leaf(key string, v slog.Value) {
	if e.full || e.over > 0 || e.count >= e.maxAttrs {
		e.drop(int64(len(key))+valueCost(v), false)
		return
	}
	mark := len(e.buf)
	e.member(key, min(maxKeyBytes, max(e.limit-mark, 0)))
	rem := e.limit - len(e.buf)
	if rem < 32 {
		e.buf = e.buf[:mark]
		e.full = true
		e.drop(int64(len(key))+valueCost(v), false)
		return
	}
	e.value(key, v, rem)
	if len(e.buf) > e.limit {
		e.buf = e.buf[:mark]
		e.full = true
		e.drop(int64(len(key))+valueCost(v), false)
		return
	}
	e.count++
	e.comma = true
}

// value appends v, redacted: the marker for a secret key, strings through
// the value rules, and other values (errors, structs, maps) through the
// JSON rules once encoded.
func (e *encoder) value(key string, v slog.Value, rem int) {
	switch {
	case !e.red.Enabled():
	case e.red.Key(key):
		e.red.Value(key, "") // counts it
		e.buf = appendString(e.buf, redact.Marker(redact.RuleKey), rem)
		return
	case v.Kind() == slog.KindString:
		v = slog.StringValue(e.red.String(v.String()))
	case v.Kind() == slog.KindInt64 && v.Int64() >= 1e12, v.Kind() == slog.KindUint64 && v.Uint64() >= 1e12:
		// A card number logged as a number: 13 digits or more.
		s := v.String()
		if red := e.red.String(s); red != s {
			v = slog.StringValue(red)
		}
	case v.Kind() == slog.KindAny:
		mark := len(e.buf)
		e.buf = appendValue(e.buf, v, rem)
		if red := e.red.JSON(e.buf[mark:]); &red[0] != &e.buf[mark] {
			e.buf = append(e.buf[:mark], red...)
		}
		return
	}
	e.buf = appendValue(e.buf, v, rem)
}

// finish closes the object and returns a copy of it, or nil if it is empty.
func (e *encoder) finish() []byte {
	for e.over > 0 || len(e.stack) > 0 {
		e.close()
	}
	if e.droppedAttrs > 0 {
		if e.comma {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, markerKey, maxKeyBytes)
		e.buf = append(e.buf, `:"…[truncated `...)
		e.buf = strconv.AppendInt(e.buf, e.droppedBytes, 10)
		e.buf = append(e.buf, " bytes, "...)
		e.buf = strconv.AppendInt(e.buf, int64(e.droppedAttrs), 10)
		e.buf = append(e.buf, ` attributes]"`...)
		e.comma = true
	}
	if !e.comma {
		return nil
	}
	e.buf = append(e.buf, '}')
	n := len(e.buf)
	if cap(e.arena)-len(e.arena) < n {
		e.arena = make([]byte, 0, max(arenaSize, n))
	}
	e.arena = append(e.arena, e.buf...)
	return e.arena[len(e.arena)-n : len(e.arena) : len(e.arena)]
}

// valueCost estimates the bytes of a dropped value, for the marker.
func valueCost(v slog.Value) int64 {
	switch v.Kind() {
	case slog.KindString:
		return int64(len(v.String()))
	case slog.KindGroup:
		n, _ := attrCost(slog.Attr{Value: v}, 0)
		return n
	}
	return 8
}

// appendValue appends v as JSON, in at most about max bytes: strings and
// large JSON values are cut with a marker.
func appendValue(b []byte, v slog.Value, max int) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendString(b, v.String(), max)
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return appendString(b, strconv.FormatFloat(f, 'g', -1, 64), max)
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		return strconv.AppendInt(b, int64(v.Duration()), 10)
	case slog.KindTime:
		return appendString(b, v.Time().Format(time.RFC3339Nano), max)
	case slog.KindAny:
		return appendAny(b, v.Any(), max)
	}
	// Groups and LogValuers are handled by the caller.
	return appendString(b, v.String(), max)
}

// appendAny writes errors as their text and anything else as encoding/json
// does. A panicking Error or MarshalJSON method gives "!PANIC: ...".
func appendAny(b []byte, a any, max int) (out []byte) {
	mark := len(b)
	defer func() {
		if r := recover(); r != nil {
			out = appendString(b[:mark], "!PANIC: "+panicText(r), max)
		}
	}()
	if a == nil {
		return append(b, "null"...)
	}
	if err, ok := a.(error); ok {
		if _, jm := a.(json.Marshaler); !jm {
			return appendString(b, err.Error(), max)
		}
	}
	j, err := json.Marshal(a)
	switch {
	case err != nil:
		return appendString(b, "!ERROR: "+err.Error(), max)
	case len(j) > max:
		return appendString(b, string(j), max)
	case !utf8.Valid(j):
		// A MarshalJSON method may return invalid UTF-8 inside a string;
		// bytes >= 0x80 only occur inside strings in valid JSON.
		j = bytes.ToValidUTF8(j, []byte("\uFFFD"))
	}
	// encoding/json writes NUL as \u0000; it stays, being valid JSON.
	return append(b, j...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string of at most max bytes (at least
// the room for the marker): invalid UTF-8 becomes U+FFFD, NUL is removed
// and what does not fit is replaced by "…[truncated N bytes]".
func appendString(b []byte, s string, max int) []byte {
	b = append(b, '"')
	room := max - 2 // the quotes
	if len(s)*6 > room && escapedLen(s) > room {
		var n int
		b, n = appendEscaped(b, s, max0(room-32))
		b = appendMarker(b, len(s)-n)
	} else {
		b, _ = appendEscaped(b, s, -1)
	}
	return append(b, '"')
}

// appendEscaped appends the escaped form of s until it would exceed budget
// bytes (-1: no limit), and returns how many bytes of s it consumed.
func appendEscaped(b []byte, s string, budget int) ([]byte, int) {
	end := len(b) + budget
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && c >= 0x20 && c != '"' && c != '\\' {
			j := i + 1
			for j < len(s) && s[j] < utf8.RuneSelf && s[j] >= 0x20 && s[j] != '"' && s[j] != '\\' {
				j++
			}
			if budget >= 0 && len(b)+j-i > end {
				j = i + max0(end-len(b))
				return append(b, s[i:j]...), j
			}
			b = append(b, s[i:j]...)
			i = j
			continue
		}
		var esc [6]byte
		e, n := escapeOne(esc[:0], s[i:])
		if budget >= 0 && len(b)+len(e) > end {
			return b, i
		}
		b = append(b, e...)
		i += n
	}
	return b, len(s)
}

// escapeOne escapes the character at the start of s (not plain ASCII) and
// returns its escaped form and its length in s.
func escapeOne(e []byte, s string) ([]byte, int) {
	switch c := s[0]; {
	case c == 0:
		return e, 1 // NUL is dropped
	case c == '"' || c == '\\':
		return append(e, '\\', c), 1
	case c == '\n':
		return append(e, '\\', 'n'), 1
	case c == '\r':
		return append(e, '\\', 'r'), 1
	case c == '\t':
		return append(e, '\\', 't'), 1
	case c < 0x20:
		return append(e, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF]), 1
	}
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size == 1 {
		return append(e, "\uFFFD"...), 1
	}
	return append(e, s[:size]...), size
}

// escapedLen is the length of s once escaped by appendEscaped.
func escapedLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && c >= 0x20 && c != '"' && c != '\\' {
			n++
			i++
			continue
		}
		var esc [6]byte
		e, k := escapeOne(esc[:0], s[i:])
		n += len(e)
		i += k
	}
	return n
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

func appendMarker(b []byte, n int) []byte {
	b = append(b, "…[truncated "...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, " bytes]"...)
}

// sanitizeText makes s fit a text column: valid UTF-8 (U+FFFD for invalid
// bytes), no NUL, at most max bytes with "…[truncated N bytes]" at the end
// when cut. It returns s itself when nothing needs changing.
func sanitizeText(s string, max int) string {
	if len(s) <= max && strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), max))
	cut := max0(max - 32)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		w := utf8.RuneLen(r)
		if r == 0 {
			w = 0
		}
		if b.Len()+w > cut && b.Len()+restLen(s[i:]) > max {
			b.WriteString("…[truncated ")
			b.WriteString(strconv.Itoa(len(s) - i))
			b.WriteString(" bytes]")
			break
		}
		if r != 0 {
			b.WriteRune(r) // RuneError for an invalid byte is U+FFFD
		}
		i += size
	}
	return b.String()
}

// restLen bounds the length of s once sanitised (U+FFFD is 3 bytes).
func restLen(s string) int {
	if len(s) > 1<<20 {
		return len(s) * 3
	}
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != 0 {
			n += utf8.RuneLen(r)
		}
		i += size
	}
	return n
}
