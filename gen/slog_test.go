package gen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/gen"
)

// TestAttrs logs gen's records through slog's JSON handler with Attrs and
// reads every column and every attribute back, nested ones included.
func TestAttrs(t *testing.T) {
	n := 0
	for r := range gen.Records(gen.Options{Rows: 2000, Seed: 3, Span: time.Hour}) {
		var buf bytes.Buffer
		l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		l.LogAttrs(context.Background(), r.Level, r.Message, gen.Attrs(r)...)
		var got map[string]any
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{}
		if len(r.Attrs) > 0 {
			if err := json.Unmarshal(r.Attrs, &want); err != nil {
				t.Fatal(err)
			}
		}
		for k, v := range map[string]string{
			sidelog.KeyKind: r.Kind.String(), sidelog.KeyLogger: r.Logger, sidelog.KeyRequestID: r.RequestID,
			sidelog.KeyUserID: r.UserID, sidelog.KeyTenantID: r.TenantID, sidelog.KeyMethod: r.Method,
			sidelog.KeyPath: r.Path, sidelog.KeyRoute: r.Route, sidelog.KeyClientIP: r.ClientIP,
			sidelog.KeyUserAgent: r.UserAgent, sidelog.KeyError: r.Error,
		} {
			if v != "" {
				want[k] = v
			}
		}
		if r.Status != 0 {
			want[sidelog.KeyStatus] = float64(r.Status)
		}
		if r.Duration != 0 {
			want[sidelog.KeyDuration] = float64(r.Duration)
		}
		delete(got, "time")
		delete(got, "level")
		delete(got, "msg")
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("record %d:\n got %v\nwant %v", n, got, want)
		}
		if len(r.Attrs) > 0 {
			n++
		}
	}
	if n == 0 {
		t.Fatal("no generated record had attributes")
	}
}

func TestAttrs_notAnObject(t *testing.T) {
	for _, raw := range []string{`[1,2]`, `{"a":`, `{"a":1} {"b":2}`, `nonsense`} {
		as := gen.Attrs(sidelog.Record{Message: "m", Attrs: json.RawMessage(raw)})
		last := as[len(as)-1]
		if last.Key != "attrs" || last.Value.String() != raw {
			t.Errorf("Attrs of %q: last attribute %v, want the raw text under attrs", raw, last)
		}
	}
}

// The slog call an application makes for a generated record.
func ExampleAttrs() {
	l := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	r := sidelog.Record{
		Level: slog.LevelInfo, Message: "GET /projects/7", Kind: sidelog.KindRequest,
		Method: "GET", Path: "/projects/7", Status: 200, Duration: 3 * time.Millisecond,
		Attrs: json.RawMessage(`{"project":{"id":7}}`),
	}
	l.LogAttrs(context.Background(), r.Level, r.Message, gen.Attrs(r)...)
	// Output:
	// level=INFO msg="GET /projects/7" kind=request http.method=GET http.path=/projects/7 http.status=200 duration=3ms project.id=7
}
