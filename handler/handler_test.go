package handler_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"go.opentelemetry.io/otel/trace"
)

func TestHandler_WithAttrsWithGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    func(slog.Handler) slog.Handler
		log  func(*slog.Logger)
		want string
	}{
		{"plain", nil, func(l *slog.Logger) { l.Info("m", "a", 1, "b", "x") }, `{"a":1,"b":"x"}`},
		{"none", nil, func(l *slog.Logger) { l.Info("m") }, ``},
		{"with", func(h slog.Handler) slog.Handler { return h.WithAttrs([]slog.Attr{slog.Int("w", 1)}) },
			func(l *slog.Logger) { l.Info("m", "a", 2) }, `{"w":1,"a":2}`},
		{"group", func(h slog.Handler) slog.Handler { return h.WithGroup("g") },
			func(l *slog.Logger) { l.Info("m", "a", 2) }, `{"g":{"a":2}}`},
		{"empty group dropped", func(h slog.Handler) slog.Handler { return h.WithGroup("g") },
			func(l *slog.Logger) { l.Info("m") }, ``},
		{"nested", func(h slog.Handler) slog.Handler {
			return h.WithAttrs([]slog.Attr{slog.Int("a", 1)}).WithGroup("g").
				WithAttrs([]slog.Attr{slog.Int("b", 2)}).WithGroup("h")
		}, func(l *slog.Logger) { l.Info("m", "c", 3, slog.Group("i", "d", 4)) },
			`{"a":1,"g":{"b":2,"h":{"c":3,"i":{"d":4}}}}`},
		{"nested empty inner", func(h slog.Handler) slog.Handler {
			return h.WithGroup("g").WithAttrs([]slog.Attr{slog.Int("b", 2)}).WithGroup("h")
		}, func(l *slog.Logger) { l.Info("m") }, `{"g":{"b":2}}`},
		{"inline group", nil, func(l *slog.Logger) { l.Info("m", slog.Group("", "a", 1), slog.Group("e")) }, `{"a":1}`},
		{"kinds", nil, func(l *slog.Logger) {
			l.Info("m", "d", 1500*time.Millisecond, "t", time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
				"b", []byte("hi"), "s", struct{ X int }{7}, "f", 1.5, "u", uint64(9), "ok", true,
				"e", errors.New("boom"), "n", nil)
		}, `{"d":1500000000,"t":"2026-01-02T03:04:05.000000006Z","b":"aGk=","s":{"X":7},"f":1.5,"u":9,"ok":true,"e":"boom","n":null}`},
		{"escapes", nil, func(l *slog.Logger) { l.Info("m", "q\"k", "a\\b\n\x01\x1b[31m") }, `{"q\"k":"a\\b\n\u0001\u001b[31m"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := &memWriter{}
			var h slog.Handler = MustNew(t, w, nil)
			if tt.h != nil {
				h = tt.h(h)
			}
			r := logOne(t, h, w, tt.log)
			if got := string(r.Attrs); got != tt.want {
				t.Errorf("attrs\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestHandler_reservedKeys(t *testing.T) {
	t.Parallel()
	w := &memWriter{}
	h := MustNew(t, w, &handler.Options{Logger: "app"})
	r := logOne(t, h, w, func(l *slog.Logger) {
		l.Error("m",
			sidelog.KeyKind, sidelog.KindRequest,
			sidelog.KeyLogger, "web",
			sidelog.KeyRequestID, "req-1",
			sidelog.KeyTraceID, "0af7651916cd43dd8448eb211c80319c",
			sidelog.KeySpanID, "b7ad6b7169203331",
			sidelog.KeyUserID, 42,
			sidelog.KeyTenantID, "org-7",
			sidelog.KeyMethod, "GET",
			sidelog.KeyPath, "/p/1",
			sidelog.KeyRoute, "GET /p/{id}",
			sidelog.KeyStatus, 503,
			sidelog.KeyDuration, 15*time.Millisecond,
			sidelog.KeyClientIP, "10.0.0.1",
			sidelog.KeyUserAgent, "curl/8",
			sidelog.KeyErr, errors.New("db down"),
			"other", 1,
		)
	})
	want := sidelog.Record{
		ID: r.ID, Time: r.Time, Level: slog.LevelError, Kind: sidelog.KindRequest, Logger: "web", Message: "m",
		RequestID: "req-1", TraceID: "0af7651916cd43dd8448eb211c80319c", SpanID: "b7ad6b7169203331",
		UserID: "42", TenantID: "org-7", Method: "GET", Path: "/p/1", Route: "GET /p/{id}", Status: 503,
		Duration: 15 * time.Millisecond, ClientIP: "10.0.0.1", UserAgent: "curl/8", Error: "db down",
		Attrs: []byte(`{"other":1}`),
	}
	if !recordsEqual(r, want) {
		t.Errorf("got  %+v\nwant %+v", r, want)
	}

	t.Run("kind by name, in WithAttrs", func(t *testing.T) {
		r := logOne(t, h.WithAttrs([]slog.Attr{slog.String("kind", "audit"), slog.String("error", "x")}), w,
			func(l *slog.Logger) { l.Info("m") })
		if r.Kind != sidelog.KindAudit || r.Error != "x" || r.Logger != "app" || r.Attrs != nil {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("inside a group they are attributes", func(t *testing.T) {
		r := logOne(t, h.WithGroup("g"), w, func(l *slog.Logger) { l.Info("m", "http.status", 200) })
		if r.Status != 0 || string(r.Attrs) != `{"g":{"http.status":200}}` {
			t.Errorf("got %+v, attrs %s", r, r.Attrs)
		}
	})
	t.Run("wrong type stays an attribute", func(t *testing.T) {
		r := logOne(t, h, w, func(l *slog.Logger) { l.Info("m", "http.status", "ok", "kind", "nope", "duration", 5) })
		if r.Status != 0 || r.Kind != sidelog.KindApp || string(r.Attrs) != `{"http.status":"ok","kind":"nope","duration":5}` {
			t.Errorf("got %+v, attrs %s", r, r.Attrs)
		}
	})
}

// recordsEqual compares records, times with Equal and Attrs as text.
func recordsEqual(a, b sidelog.Record) bool {
	return reflect.DeepEqual(comparable(a), comparable(b))
}

func comparable(r sidelog.Record) any {
	attrs, t := string(r.Attrs), r.Time.UnixNano()
	r.Attrs, r.Time = nil, time.Time{}
	return struct {
		R     sidelog.Record
		Attrs string
		T     int64
	}{r, attrs, t}
}

func TestHandler_contextScope(t *testing.T) {
	t.Parallel()
	w := &memWriter{}
	h := MustNew(t, w, nil)
	ctx := sidelog.WithRequest(context.Background(), "req-9")
	ctx = sidelog.WithUser(ctx, "u1", "t1")
	r := logOne(t, h, w, func(l *slog.Logger) { l.InfoContext(ctx, "m") })
	if r.RequestID != "req-9" || r.UserID != "u1" || r.TenantID != "t1" || r.TraceID != "" {
		t.Errorf("got %+v", r)
	}

	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	octx := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	r = logOne(t, h, w, func(l *slog.Logger) { l.InfoContext(octx, "m") })
	if r.TraceID != tid.String() || r.SpanID != sid.String() || r.RequestID != "req-9" {
		t.Errorf("otel: got %+v", r)
	}

	// A trace in the scope wins over the OTel span.
	sctx := sidelog.WithTrace(octx, "scope-trace", "scope-span")
	r = logOne(t, h, w, func(l *slog.Logger) { l.InfoContext(sctx, "m") })
	if r.TraceID != "scope-trace" || r.SpanID != "scope-span" {
		t.Errorf("scope trace: got %+v", r)
	}

	// An attribute wins over the scope; a cancelled context is ignored.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	r = logOne(t, h, w, func(l *slog.Logger) { l.InfoContext(cctx, "m", "user_id", "u2") })
	if r.UserID != "u2" || r.RequestID != "req-9" {
		t.Errorf("attr over scope: got %+v", r)
	}
}

func TestHandler_Enabled(t *testing.T) {
	t.Parallel()
	var lv slog.LevelVar
	lv.Set(slog.LevelWarn)
	h := MustNew(t, &memWriter{}, &handler.Options{Level: &lv})
	ctx := context.Background()
	if h.Enabled(ctx, slog.LevelInfo) || !h.Enabled(ctx, slog.LevelWarn) {
		t.Error("want only warn and above")
	}
	lv.Set(slog.LevelDebug)
	if !h.WithGroup("g").Enabled(ctx, slog.LevelDebug) {
		t.Error("want debug after LevelVar change")
	}
	if d := MustNew(t, &memWriter{}, nil); d.Enabled(ctx, slog.LevelDebug) || !d.Enabled(ctx, slog.LevelInfo) {
		t.Error("default level: want info")
	}
}

func TestHandler_AddSource(t *testing.T) {
	t.Parallel()
	w := &memWriter{}
	h := MustNew(t, w, &handler.Options{AddSource: true})
	r := logOne(t, h, w, func(l *slog.Logger) { l.Info("m") })
	src, _ := attrsMap(t, r)["source"].(map[string]any)
	if file, _ := src["file"].(string); !strings.HasSuffix(file, "handler_test.go") || src["line"] == nil {
		t.Errorf("source = %v", src)
	}
}

func TestHandler_derivedSharePipeline(t *testing.T) {
	t.Parallel()
	w := &memWriter{}
	h := MustNew(t, w, nil)
	l := slog.New(h.WithAttrs([]slog.Attr{slog.Int("a", 1)}).WithGroup("g"))
	for range 10 {
		l.Info("m")
	}
	slog.New(h).Info("m")
	MustFlush(t, h)
	if got := h.Stats().Written; got != 11 {
		t.Errorf("Written = %d, want 11", got)
	}
}

func TestHandler_Close(t *testing.T) {
	t.Parallel()
	w := &memWriter{}
	fb := &syncBuffer{}
	h := handler.New(w, &handler.Options{Fallback: fb, FlushInterval: time.Hour})
	l := slog.New(h)
	for i := range 2500 {
		l.Info("m", "i", i)
	}
	ctx := context.Background()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(w.records()); got != 2500 {
		t.Errorf("records after Close = %d, want 2500", got)
	}
	if err := h.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelInfo, "late", 0)); !errors.Is(err, handler.ErrDropped) {
		t.Errorf("Handle after Close = %v, want ErrDropped", err)
	}
	if err := h.Flush(ctx); err != nil {
		t.Errorf("Flush after Close: %v", err)
	}
	if st := h.Stats(); st.Failed != 1 || st.Written != 2500 || !strings.Contains(fb.String(), `"msg":"late"`) {
		t.Errorf("stats %+v, fallback %q", st, fb.String())
	}
}
