package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sidelog/sidelog"
)

// Columns are the columns of the CSV export, in order; the Parquet export
// uses the same names.
var Columns = []string{
	"id", "time", "level", "kind", "logger", "msg", "request_id", "trace_id",
	"span_id", "user_id", "tenant_id", "method", "path", "route", "status",
	"duration_ns", "client_ip", "user_agent", "error", "attrs",
}

// CSV writes records as comma-separated values with a header row, safe to
// open in a spreadsheet: a cell that begins with =, +, -, @, a tab or a
// carriage return gets a leading apostrophe, so that it is shown as text and
// never evaluated as a formula (OWASP's advice on CSV injection). Times are
// RFC 3339 in UTC, levels slog's names, attrs JSON text. Control and
// Unicode format characters other than tab, newline and carriage return
// (ANSI escapes, bidi overrides) are written as visible escapes like \x1b,
// so that printing the file cannot drive a terminal.
type CSV struct {
	cw     *csv.Writer
	header bool
	row    []string
}

// NewCSV returns a CSV writer to w.
func NewCSV(w io.Writer) *CSV {
	return &CSV{cw: csv.NewWriter(w), row: make([]string, len(Columns))}
}

// Write implements Writer.
func (c *CSV) Write(r sidelog.Record) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	row := c.row
	row[0] = strconv.FormatInt(r.ID, 10)
	row[1] = r.Time.UTC().Format(time.RFC3339Nano)
	row[2] = r.Level.String()
	row[3] = r.Kind.String()
	copy(row[4:14], []string{r.Logger, r.Message, r.RequestID, r.TraceID, r.SpanID, r.UserID, r.TenantID, r.Method, r.Path, r.Route})
	row[14] = formatNonZero(int64(r.Status))
	row[15] = formatNonZero(int64(r.Duration))
	row[16], row[17], row[18], row[19] = r.ClientIP, r.UserAgent, r.Error, string(r.Attrs)
	for i, s := range row {
		row[i] = NeutraliseCell(escapeControls(s))
	}
	return c.cw.Write(row)
}

func (c *CSV) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	return c.cw.Write(Columns)
}

func formatNonZero(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// Flush implements Writer.
func (c *CSV) Flush() error {
	c.cw.Flush()
	return c.cw.Error()
}

// Close implements Writer.
func (c *CSV) Close() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	return c.Flush()
}

// NeutraliseCell returns s with a leading apostrophe when a spreadsheet
// could take it for a formula: when it begins with =, +, -, @, their
// full-width forms (＝ ＋ － ＠), or any white space or control character
// (tab, carriage return, newline, space, no-break space, ...), which some
// spreadsheets skip before looking for a formula.
func NeutraliseCell(s string) string {
	if s == "" {
		return s
	}
	r, _ := utf8.DecodeRuneInString(s)
	switch {
	case strings.ContainsRune("=+-@\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\u2212", r),
		unicode.IsSpace(r), unicode.IsControl(r), unicode.Is(unicode.Cf, r):
		return "'" + s
	}
	return s
}

// escapeControls writes control and format characters of s, except tab,
// newline and carriage return, as \xNN or \uNNNN.
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, isEscaped) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !isEscaped(r):
			b.WriteRune(r)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func isEscaped(r rune) bool {
	return r != '\t' && r != '\n' && r != '\r' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r))
}
