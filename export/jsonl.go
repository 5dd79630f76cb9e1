package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sidelog/sidelog"
)

// JSONL writes one Record as a JSON object per line: the lossless format,
// read back by ReadJSONL. Strings that are not valid UTF-8 are written with
// U+FFFD in place of the bad bytes, as JSON requires. Every character a
// terminal could act on is written as a \uXXXX escape, in the fields and
// inside attrs alike: C0 and C1 controls, DEL, and Unicode format
// characters such as the bidi overrides U+202E and U+2066..U+2069; decoding
// the line gives them back unchanged.
type JSONL struct {
	bw   *bufio.Writer
	enc  *json.Encoder
	line bytes.Buffer
}

// NewJSONL returns a JSON Lines writer to w.
func NewJSONL(w io.Writer) *JSONL {
	j := &JSONL{bw: bufio.NewWriterSize(w, 64<<10)}
	j.enc = json.NewEncoder(&j.line)
	// HTML escaping would rewrite "<" in Attrs as \u003c and break the
	// byte-exact round trip of Attrs.
	j.enc.SetEscapeHTML(false)
	return j
}

// Write implements Writer.
func (j *JSONL) Write(r sidelog.Record) error {
	j.line.Reset()
	if err := j.enc.Encode(r); err != nil {
		return err
	}
	_, err := j.bw.Write(EscapeJSON(j.line.Bytes()))
	return err
}

// EscapeJSON rewrites, in JSON text b, every DEL, C1 control and Unicode
// format character (bidi overrides, zero-width characters) as a \uXXXX
// escape, and invalid UTF-8 as \ufffd. In valid JSON these can only occur
// inside strings, so the result is valid JSON with the same meaning. It
// returns b itself when nothing needs escaping.
func EscapeJSON(b []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf && c != 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if c != 0x7f && !(r == utf8.RuneError && n == 1) && !terminalRune(r) {
			i += n
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(b)+16)
		}
		out = append(out, b[last:i]...)
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			out = appendU(appendU(out, r1), r2)
		} else {
			out = appendU(out, r)
		}
		i += n
		last = i
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// terminalRune reports whether a terminal could act on r: a control
// character or a Unicode format character.
func terminalRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

func appendU(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
}

// Flush implements Writer.
func (j *JSONL) Flush() error { return j.bw.Flush() }

// Close implements Writer.
func (j *JSONL) Close() error { return j.bw.Flush() }

// MaxLine is the longest line ReadJSONL accepts.
const MaxLine = 16 << 20

// ReadJSONL reads records written by the JSON Lines writer, one object per
// line; blank lines are skipped. Times are returned in UTC and an "attrs"
// of null as nil. A bad line yields an EINVALID error naming its line number
// (unknown fields, a missing time or one outside sidelog.MinTime to
// sidelog.MaxTime, attrs that are not an object, trailing data), and the sequence ends there; so does it after a read error. IDs are
// kept as read; a store assigns its own when the records are written.
func ReadJSONL(r io.Reader) iter.Seq2[sidelog.Record, error] {
	return func(yield func(sidelog.Record, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
		line := 0
		for sc.Scan() {
			line++
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			rec, err := decodeLine(b)
			if err != nil {
				yield(sidelog.Record{}, sidelog.Errorf(sidelog.EINVALID, "line %d: %s", line, err))
				return
			}
			if !yield(rec, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = sidelog.Errorf(sidelog.EINVALID, "line %d: longer than %d bytes", line+1, MaxLine)
			}
			yield(sidelog.Record{}, err)
		}
	}
}

// decodeLine decodes one non-blank line; its errors are messages for a user.
func decodeLine(b []byte) (sidelog.Record, error) {
	var rec sidelog.Record
	if b[0] != '{' {
		return rec, errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return rec, decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return rec, errors.New("unexpected data after the JSON object")
	}
	switch {
	case rec.Time.IsZero():
		return rec, errors.New(`missing "time"`)
	case string(rec.Attrs) == "null":
		rec.Attrs = nil
	case rec.Attrs != nil && rec.Attrs[0] != '{':
		return rec, errors.New(`"attrs" is not a JSON object`)
	}
	rec.Time = rec.Time.UTC()
	if y := rec.Time.Year(); y < 1 || y > 9999 {
		return rec, errors.New(`"time" is out of range`)
	}
	if !sidelog.TimeInRange(rec.Time) {
		return rec, fmt.Errorf(`"time" %s is outside the times a log database can store (%s to %s)`,
			rec.Time.Format(time.RFC3339), sidelog.MinTime.Format(time.RFC3339), sidelog.MaxTime.Format(time.RFC3339))
	}
	return rec, nil
}

// decodeError rewords the errors of encoding/json and time for a person
// fixing a file.
func decodeError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		tpe *time.ParseError
		se  *sidelog.Error
	)
	switch {
	case errors.As(err, &tpe):
		return fmt.Errorf("%q is not an RFC 3339 time", tpe.Value)
	case errors.As(err, &syn):
		return fmt.Errorf("bad JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		return fmt.Errorf("%q must not be a JSON %s", typ.Field, typ.Value)
	case errors.As(err, &se):
		return errors.New(se.Message)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("bad JSON: the object is cut short")
	}
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
}
