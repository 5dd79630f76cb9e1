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

	"github.com/sidelog/sidelog"
)

// JSONL writes one Record as a JSON object per line: the lossless format,
// read back by ReadJSONL. Strings that are not valid UTF-8 are written with
// U+FFFD in place of the bad bytes, as JSON requires.
type JSONL struct {
	bw  *bufio.Writer
	enc *json.Encoder
}

// NewJSONL returns a JSON Lines writer to w.
func NewJSONL(w io.Writer) *JSONL {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	// HTML escaping would rewrite "<" in Attrs as \u003c and break the
	// byte-exact round trip of Attrs.
	enc.SetEscapeHTML(false)
	return &JSONL{bw: bw, enc: enc}
}

// Write implements Writer.
func (j *JSONL) Write(r sidelog.Record) error { return j.enc.Encode(r) }

// Flush implements Writer.
func (j *JSONL) Flush() error { return j.bw.Flush() }

// Close implements Writer.
func (j *JSONL) Close() error { return j.bw.Flush() }

// MaxLine is the longest line ReadJSONL accepts.
const MaxLine = 16 << 20

// ReadJSONL reads records written by the JSON Lines writer, one object per
// line; blank lines are skipped. Times are returned in UTC and an "attrs"
// of null as nil. A bad line yields an EINVALID error naming its line number
// (unknown fields, a missing time or one outside years 1 to 9999 in UTC, attrs that are not an object, trailing
// data), and the sequence ends there; so does it after a read error. IDs are
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
