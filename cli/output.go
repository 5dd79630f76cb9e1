package cli

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/export"
)

// Sanitize makes every character of s that could move the cursor, change
// colours or reorder text on a terminal visible as an escape: control
// characters (\x1b, \n, \r, \t, \x7f, C1), Unicode format characters such
// as bidi overrides (\u202e), and bytes that are not UTF-8 (\xff).
func Sanitize(s string) string {
	if !needsSanitize(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsSanitize(s string) bool {
	for i, r := range s {
		if !unicode.IsPrint(r) || r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return true
		}
	}
	return false
}

// The output formats of query and tail.
const (
	formatText   = "text"
	formatJSON   = "json"
	formatLogfmt = "logfmt"
)

// newPrinter returns a writer of records to w in one of the output formats.
func (c *CLI) newPrinter(format string, w io.Writer) (export.Writer, error) {
	switch format {
	case formatText:
		return &textWriter{bw: bufio.NewWriter(w), colour: c.colour(w)}, nil
	case formatJSON:
		return export.NewJSONL(w), nil
	case formatLogfmt:
		return export.NewLogfmt(w), nil
	}
	return nil, usageError("unknown format %q (want text, json or logfmt)", format)
}

// textWriter prints one line per record for people: time, level, kind and
// message, then the fields that are set as key=value. On a terminal the
// level is coloured. Every value is sanitised.
type textWriter struct {
	bw     *bufio.Writer
	colour bool
	buf    []byte
}

const (
	ansiReset = "\x1b[0m"
	ansiDim   = "\x1b[2m"
)

// levelColours are the ANSI colours of the level classes.
var levelColours = [4]string{"\x1b[90m", "\x1b[36m", "\x1b[33m", "\x1b[1;31m"}

// Write implements export.Writer.
func (t *textWriter) Write(r sidelog.Record) error {
	b := t.buf[:0]
	b = t.paint(b, ansiDim, r.Time.UTC().Format("2006-01-02T15:04:05.000Z"))
	b = append(b, ' ')
	b = t.paint(b, levelColours[sidelog.LevelClass(r.Level)], fmt.Sprintf("%-5s", r.Level))
	b = fmt.Appendf(b, " %-8s %s", r.Kind, Sanitize(r.Message))
	// The span, route and user agent make lines long and are rarely what
	// one looks for in a terminal; json and logfmt have them.
	r.SpanID, r.Route, r.UserAgent = "", "", ""
	b = export.AppendDetails(b, r)
	if r.ID != 0 {
		b = append(b, ' ')
		b = t.paint(b, ansiDim, "id="+strconv.FormatInt(r.ID, 10))
	}
	b = append(b, '\n')
	t.buf = b
	_, err := t.bw.Write(b)
	return err
}

func (t *textWriter) paint(b []byte, colour, s string) []byte {
	if !t.colour {
		return append(b, s...)
	}
	return append(append(append(b, colour...), s...), ansiReset...)
}

// Flush implements export.Writer.
func (t *textWriter) Flush() error { return t.bw.Flush() }

// Close implements export.Writer.
func (t *textWriter) Close() error { return t.bw.Flush() }

// formatBytes writes a size in binary units: 512 B, 1.5 KiB, 12.3 MiB.
func formatBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, units := float64(n), []string{"KiB", "MiB", "GiB", "TiB"}
	for i, u := range units {
		f /= 1024
		if f < 1024 || i == len(units)-1 {
			return strconv.FormatFloat(f, 'f', 1, 64) + " " + u
		}
	}
	return ""
}

// formatCount writes n with thousands separators: 1,234,567.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + formatCount(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// levelNames are the names of the level classes.
var levelNames = [4]string{"debug", "info", "warn", "error"}
