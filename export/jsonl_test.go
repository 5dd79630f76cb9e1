package export_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/export"
)

func writeJSONL(tb testing.TB, recs []sidelog.Record) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := export.NewJSONL(&buf)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(r *bytes.Reader) ([]sidelog.Record, error) {
	var recs []sidelog.Record
	for rec, err := range export.ReadJSONL(r) {
		if err != nil {
			return recs, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

func TestJSONL_RoundTrip(t *testing.T) {
	t.Parallel()
	want := testRecords(50)
	data := writeJSONL(t, want)
	if n := bytes.Count(data, []byte("\n")); n != len(want) {
		t.Fatalf("%d lines for %d records", n, len(want))
	}
	got, err := readAll(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("record %d:\n got %#v\nwant %#v", i, got[i], want[i])
			}
		}
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
}

func TestReadJSONL_Blank(t *testing.T) {
	t.Parallel()
	in := "\n" + `{"time":"2026-11-20T13:00:00+01:00","level":"WARN","kind":"audit","msg":"x","attrs":null}` + "\n\n  \n"
	got, err := readAll(bytes.NewReader([]byte(in)))
	if err != nil {
		t.Fatal(err)
	}
	want := []sidelog.Record{{Time: t0.Truncate(1e9 * 3600), Level: 4, Kind: sidelog.KindAudit, Message: "x"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

func TestReadJSONL_Errors(t *testing.T) {
	t.Parallel()
	good := `{"time":"2026-11-20T12:00:00Z","level":"INFO","kind":"app","msg":"ok"}`
	for _, tt := range []struct{ name, in, want string }{
		{"bad json", good + "\n{\"time\":\n", "line 2: bad JSON: the object is cut short"},
		{"syntax", `{"time":"2026-11-20T12:00:00Z",,}`, "line 1: bad JSON at byte 32: invalid character ','"},
		{"bad time", `{"time":"yesterday"}`, `line 1: "yesterday" is not an RFC 3339 time`},
		{"wrong type", `{"time":"2026-11-20T12:00:00Z","status":"200"}`, `line 1: "status" must not be a JSON string`},
		{"not an object", good + "\n\n[1,2]\n", "line 3: not a JSON object"},
		{"unknown field", `{"time":"2026-11-20T12:00:00Z","colour":"red"}`, `line 1: unknown field "colour"`},
		{"missing time", `{"msg":"x"}`, `line 1: missing "time"`},
		{"bad level", `{"time":"2026-11-20T12:00:00Z","level":"LOUD"}`, "line 1: "},
		{"bad kind", `{"time":"2026-11-20T12:00:00Z","kind":"job"}`, `line 1: unknown kind "job"`},
		{"attrs not object", `{"time":"2026-11-20T12:00:00Z","attrs":[1]}`, `line 1: "attrs" is not a JSON object`},
		{"trailing data", good + ` {"a":1}`, "line 1: unexpected data after the JSON object"},
		{"too long", good + "\n" + `{"msg":"` + strings.Repeat("x", export.MaxLine) + `"}`, "line 2: longer than"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := readAll(bytes.NewReader([]byte(tt.in)))
			if sidelog.ErrorCode(err) != sidelog.EINVALID || !strings.Contains(sidelog.ErrorMessage(err), tt.want) {
				t.Fatalf("error = %v, want EINVALID containing %q", err, tt.want)
			}
			if strings.HasPrefix(tt.in, good+"\n") && len(got) != 1 {
				t.Errorf("got %d records before the error, want 1", len(got))
			}
		})
	}
}

func TestReadJSONL_StopEarly(t *testing.T) {
	t.Parallel()
	data := writeJSONL(t, testRecords(10))
	n := 0
	for range export.ReadJSONL(bytes.NewReader(data)) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("n = %d", n)
	}
}

func FuzzReadJSONL(f *testing.F) {
	f.Add(writeJSONL(f, testRecords(4)))
	f.Add([]byte(`{"time":"2026-11-20T12:00:00Z","attrs":{}}` + "\n" + `{"time":1}`))
	f.Add([]byte(`{"time":"2026-11-20T12:00:00Z","attrs":null,"level":"ERROR+3","duration":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := readAll(bytes.NewReader(data))
		if err != nil {
			if sidelog.ErrorCode(err) != sidelog.EINVALID || !strings.HasPrefix(sidelog.ErrorMessage(err), "line ") {
				t.Fatalf("error %v is not EINVALID with a line number", err)
			}
		}
		// What was read is written and read back the same, up to what
		// JSON cannot hold (invalid UTF-8 becomes U+FFFD, attrs compact).
		for i := range recs {
			recs[i].Attrs = compact(recs[i].Attrs)
		}
		again, err := readAll(bytes.NewReader(writeJSONL(t, recs)))
		if err != nil {
			t.Fatalf("re-reading %d records: %v", len(recs), err)
		}
		if len(again) != len(recs) {
			t.Fatalf("re-read %d records, want %d", len(again), len(recs))
		}
		for i := range recs {
			a, b := writeJSONL(t, recs[i:i+1]), writeJSONL(t, again[i:i+1])
			if !bytes.Equal(a, b) {
				t.Fatalf("record %d changed:\n%s\n%s", i, a, b)
			}
		}
	})
}

func compact(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func TestReadJSONL_TimeRange(t *testing.T) {
	t.Parallel()
	_, err := readAll(bytes.NewReader([]byte(`{"time":"9999-12-31T23:59:59-01:00"}`)))
	if !strings.Contains(sidelog.ErrorMessage(err), `line 1: "time" is out of range`) {
		t.Errorf("error = %v", err)
	}
}

func TestJSONL_escapesTerminalControls(t *testing.T) {
	t.Parallel()
	hostile := "a\u202eb\u0085c\u009bd\x7fe\x1b[31mf\u2066g\U000e0001h"
	attrs, _ := json.Marshal(map[string]string{hostile: hostile})
	rec := sidelog.Record{Time: time.Unix(1, 0).UTC(), Message: hostile, Error: hostile, Attrs: attrs}
	var buf bytes.Buffer
	w := export.NewJSONL(&buf)
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	out := buf.String()
	for _, bad := range []string{"\u202e", "\u0085", "\u009b", "\x7f", "\x1b", "\u2066", "\U000e0001"} {
		if strings.Contains(out, bad) {
			t.Errorf("%q reached the output: %q", bad, out)
		}
	}
	for got, err := range export.ReadJSONL(strings.NewReader(out)) {
		if err != nil {
			t.Fatal(err)
		}
		if got.Message != hostile || got.Error != hostile {
			t.Errorf("round trip: %q", got.Message)
		}
		var m map[string]string
		if err := json.Unmarshal(got.Attrs, &m); err != nil || m[hostile] != hostile {
			t.Errorf("attrs round trip: %q %v", got.Attrs, err)
		}
	}
}
