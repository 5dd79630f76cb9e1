package export_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/export"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 123456789, time.UTC)

// testRecords returns n varied records, the first few with the awkward
// values every format must survive.
func testRecords(n int) []sidelog.Record {
	recs := []sidelog.Record{
		{ID: 1, Time: t0, Level: slog.LevelInfo, Kind: sidelog.KindRequest, Logger: "http", Message: "GET /api/users",
			RequestID: "01JD7Z", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7",
			UserID: "42", TenantID: "7", Method: "GET", Path: "/api/users", Route: "GET /api/users",
			Status: 200, Duration: 1234567 * time.Nanosecond, ClientIP: "203.0.113.9", UserAgent: "curl/8.5.0",
			Attrs: json.RawMessage(`{"bytes":512,"q":"<a>&b","nested":{"x":[1,2],"y":null}}`)},
		{ID: 2, Time: t0.Add(time.Nanosecond), Level: slog.LevelWarn + 2, Kind: sidelog.KindAudit, Message: "=HYPERLINK(\"http://evil\")",
			UserID: "-1+2", Error: "@SUM(A1)", Attrs: json.RawMessage(`{"k":"\tx","héllo":"wörld ☃"}`)},
		{ID: 3, Time: t0.Add(time.Second), Level: slog.LevelError, Kind: sidelog.KindSecurity, Message: "line1\nline2\r\x1b[31mred\x1b[0m",
			Error: "+boom", Logger: "\rlogger", Path: "/a b=c\"d"},
		{ID: 4, Time: t0.Add(time.Minute), Level: slog.LevelDebug - 4, Message: ""},
	}
	for i := len(recs); i < n; i++ {
		recs = append(recs, sidelog.Record{
			ID: int64(i + 1), Time: t0.Add(time.Duration(i) * time.Millisecond), Level: slog.Level(4 * (i%4 - 1)),
			Kind: sidelog.Kind(i % 4), Logger: fmt.Sprintf("svc%d", i%5), Message: fmt.Sprintf("message %d", i),
			UserID: fmt.Sprint(i % 100), Status: 200 + i%300, Duration: time.Duration(i) * time.Microsecond,
			Attrs: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
		})
	}
	return recs[:n]
}

func TestNewWriter(t *testing.T) {
	t.Parallel()
	if got, want := export.Formats(), []string{"csv", "jsonl", "logfmt", "parquet"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Formats() = %v, want %v", got, want)
	}
	for _, f := range export.Formats() {
		if _, err := export.NewWriter(f, &bytes.Buffer{}); err != nil {
			t.Errorf("NewWriter(%q): %v", f, err)
		}
	}
	_, err := export.NewWriter("xml", &bytes.Buffer{})
	if sidelog.ErrorCode(err) != sidelog.EINVALID || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("NewWriter(xml) error = %v, want EINVALID naming the format", err)
	}
}

func TestCSV(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := export.NewCSV(&buf)
	recs := testRecords(4)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || !reflect.DeepEqual(rows[0], export.Columns) {
		t.Fatalf("got %d rows, header %v", len(rows), rows[0])
	}
	col := func(row int, name string) string {
		for i, c := range export.Columns {
			if c == name {
				return rows[row][i]
			}
		}
		t.Fatalf("no column %q", name)
		return ""
	}
	for _, c := range []struct {
		row       int
		col, want string
	}{
		{1, "time", "2026-11-20T12:00:00.123456789Z"},
		{1, "level", "INFO"},
		{1, "kind", "request"},
		{1, "status", "200"},
		{1, "duration_ns", "1234567"},
		{1, "attrs", `{"bytes":512,"q":"<a>&b","nested":{"x":[1,2],"y":null}}`},
		{2, "level", "WARN+2"},
		{2, "msg", `'=HYPERLINK("http://evil")`},
		{2, "user_id", "'-1+2"},
		{2, "error", "'@SUM(A1)"},
		{3, "error", "'+boom"},
		{3, "logger", "'\rlogger"},
		{3, "msg", "line1\nline2\r\\x1b[31mred\\x1b[0m"},
		{4, "level", "DEBUG-4"},
		{4, "status", ""},
	} {
		if got := col(c.row, c.col); got != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.col, got, c.want)
		}
	}
}

func TestCSV_Empty(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := export.NewCSV(&buf).Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), strings.Join(export.Columns, ",")+"\n"; got != want {
		t.Errorf("empty export = %q, want %q", got, want)
	}
}

func TestNeutraliseCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "", "plain": "plain", "=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@A1": "'@A1",
		"\tx": "'\tx", "\rx": "'\rx", "a=b": "a=b", " =x": "' =x", "'=x": "'=x",
		"\n=1": "'\n=1", "\uff1d1+1": "'\uff1d1+1", "\uff0b1": "'\uff0b1", "\u00a0=1": "'\u00a0=1", "\u202e=1": "'\u202e=1",
	} {
		if got := export.NeutraliseCell(in); got != want {
			t.Errorf("NeutraliseCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLogfmt(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := export.NewLogfmt(&buf)
	for _, r := range testRecords(4) {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := `time=2026-11-20T12:00:00.123456789Z level=INFO kind=request msg="GET /api/users" logger=http request_id=01JD7Z trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 user_id=42 tenant_id=7 method=GET path=/api/users route="GET /api/users" status=200 duration=1.234567ms client_ip=203.0.113.9 user_agent=curl/8.5.0 bytes=512 q=<a>&b nested.x=[1,2] nested.y=null
time=2026-11-20T12:00:00.12345679Z level=WARN+2 kind=audit msg="=HYPERLINK(\"http://evil\")" user_id=-1+2 error=@SUM(A1) k="\tx" héllo="wörld ☃"
time=2026-11-20T12:00:01.123456789Z level=ERROR kind=security msg="line1\nline2\r\x1b[31mred\x1b[0m" logger="\rlogger" path="/a b=c\"d" error=+boom
time=2026-11-20T12:01:00.123456789Z level=DEBUG-4 kind=app msg=""
`
	if got := buf.String(); got != want {
		t.Errorf("logfmt:\n%s\nwant:\n%s", got, want)
	}
	if strings.ContainsAny(buf.String(), "\x1b\r") {
		t.Error("logfmt output contains a raw escape or carriage return")
	}
}

func TestAppendLogfmt_AttrKeys(t *testing.T) {
	t.Parallel()
	r := sidelog.Record{Time: t0, Attrs: json.RawMessage(`{"a b":1,"c=d":"x","\u001b[2J":true,"":2}`)}
	got := string(export.AppendLogfmt(nil, r))
	want := `time=2026-11-20T12:00:00.123456789Z level=INFO kind=app msg="" a_b=1 c_d=x _[2J=true _=2`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
