package httplog_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/httplog"
)

func TestMiddleware_RequestID(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 65)
	tests := []struct {
		name         string
		in           []string // X-Request-ID header values; nil for none
		opts         httplog.Options
		wantAccepted bool
		wantRejected string // "" when no rejected attr is expected
	}{
		{name: "generated", in: nil},
		{name: "accepted", in: []string{"abc-123_x.y:z"}, wantAccepted: true},
		{name: "accepted max length", in: []string{strings.Repeat("Z", 64)}, wantAccepted: true},
		{name: "empty", in: []string{""}},
		{name: "oversized", in: []string{long}, wantRejected: strings.Repeat("a", 64) + `\u2026`},
		{name: "control chars", in: []string{"abc\n\x00\x1b[31m"}, wantRejected: `abc\n\x00\x1b[31m`},
		{name: "unicode", in: []string{"héllo"}, wantRejected: `h\u00e9llo`},
		{name: "space", in: []string{"a b"}, wantRejected: `a b`},
		{name: "slash", in: []string{"a/b"}, wantRejected: `a/b`},
		{name: "invalid utf8", in: []string{"a\xffb"}, wantRejected: `a\xffb`},
		{name: "multibyte cut", in: []string{strings.Repeat("a", 63) + "éé"}, wantRejected: strings.Repeat("a", 63) + `\u2026`},
		{name: "first of two", in: []string{"first", "second"}, wantAccepted: true},
		{name: "ignored", in: []string{"abc"}, opts: httplog.Options{IgnoreIncomingRequestID: true}},
		{name: "custom header", in: nil, opts: httplog.Options{RequestIDHeader: "X-Correlation-ID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := tt.opts.RequestIDHeader
			if header == "" {
				header = "X-Request-ID"
			}
			r := httptest.NewRequest("GET", "/x", nil)
			for _, v := range tt.in {
				r.Header.Add(header, v)
			}
			var inner string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inner = httplog.RequestID(r.Context())
				slog.New(slogHandlerFrom(r)).InfoContext(r.Context(), "inside")
			})
			w, c := serve(t, tt.opts, h, r)
			got := w.Header().Get(header)
			if got == "" || got != inner {
				t.Fatalf("echoed id %q, context id %q", got, inner)
			}
			if tt.wantAccepted {
				if got != tt.in[0] {
					t.Errorf("id = %q, want the incoming %q", got, tt.in[0])
				}
			} else if len(got) != 23 || !httplog.ValidRequestID(got) {
				t.Errorf("generated id %q is not 23 valid characters", got)
			}
			rec := c.mustOne(t)
			if rec.str(sidelog.KeyRequestID) != got {
				t.Errorf("record request_id = %q, want %q", rec.str(sidelog.KeyRequestID), got)
			}
			if got := rec.str(httplog.KeyRejectedRequestID); got != tt.wantRejected {
				t.Errorf("rejected = %q, want %q", got, tt.wantRejected)
			}
		})
	}
}

// slogHandlerFrom returns a handler that checks nothing; the test only
// needs the context to be the request's.
func slogHandlerFrom(*http.Request) slog.Handler { return slog.DiscardHandler }

func TestMiddleware_AppLinesCarryRequestID(t *testing.T) {
	t.Parallel()
	c := newCapture()
	logger := slog.New(c)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "loading project")
		ctx := sidelog.WithUser(r.Context(), "42", "7")
		logger.InfoContext(ctx, "loaded")
	})
	w := httptest.NewRecorder()
	httplog.New(logger, httplog.Options{})(h).ServeHTTP(w, httptest.NewRequest("GET", "/p", nil))
	id := w.Header().Get("X-Request-ID")
	all := c.all()
	if len(all) != 3 {
		t.Fatalf("got %d records, want 3", len(all))
	}
	for _, e := range all {
		if e.Scope.RequestID != id {
			t.Errorf("%q: context request id %q, want %q", e.Message, e.Scope.RequestID, id)
		}
	}
	req := c.mustOne(t)
	if req.str(sidelog.KeyUserID) != "42" || req.str(sidelog.KeyTenantID) != "7" {
		t.Errorf("user/tenant = %q/%q, want 42/7", req.str(sidelog.KeyUserID), req.str(sidelog.KeyTenantID))
	}
}

func TestMiddleware_Record(t *testing.T) {
	t.Parallel()
	clk := newClock()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clk.Advance(1500 * time.Microsecond)
		httplog.AddAttrs(r.Context(), slog.Int("project", 9))
		w.WriteHeader(201)
		_, _ = io.WriteString(w, "created")
	})
	r := httptest.NewRequest("POST", "/projects?token=x", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	r.Header.Set("User-Agent", "test/1.0")
	r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	_, c := serve(t, httplog.Options{Now: clk.Now, LogQuery: true}, h, r)
	e := c.mustOne(t)
	if e.Message != "POST /projects 201" || e.Level != slog.LevelInfo {
		t.Errorf("message %q level %v", e.Message, e.Level)
	}
	want := map[string]string{
		sidelog.KeyKind:              "request",
		sidelog.KeyMethod:            "POST",
		sidelog.KeyPath:              "/projects",
		sidelog.KeyStatus:            "201",
		httplog.KeyResponseBytes:     "7",
		sidelog.KeyDuration:          "1.5ms",
		sidelog.KeyClientIP:          "192.0.2.7",
		sidelog.KeyUserAgent:         "test/1.0",
		sidelog.KeyTraceID:           "4bf92f3577b34da6a3ce929d0e0e4736",
		sidelog.KeySpanID:            "00f067aa0ba902b7",
		httplog.KeyQuery:             "token=[REDACTED:key-value]",
		"project":                    "9",
		httplog.KeySlow:              "",
		httplog.KeyCanceled:          "",
		sidelog.KeyUserID:            "",
		sidelog.KeyRoute:             "",
		httplog.KeyRejectedRequestID: "",
	}
	for k, v := range want {
		if got := e.str(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if e.Scope.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("scope trace = %q", e.Scope.TraceID)
	}
}

func TestMiddleware_Status(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		h         http.HandlerFunc
		wantCode  int
		wantLevel slog.Level
		wantBytes int64
	}{
		{"nothing written", func(w http.ResponseWriter, r *http.Request) {}, 200, slog.LevelInfo, 0},
		{"write implies 200", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("hello")) }, 200, slog.LevelInfo, 5},
		{"redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/x", http.StatusFound) }, 302, slog.LevelInfo, -1},
		{"not found", http.NotFound, 404, slog.LevelWarn, 19},
		{"server error", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }, 503, slog.LevelError, 0},
		{"superfluous WriteHeader", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(404)
			w.WriteHeader(500)
		}, 404, slog.LevelWarn, 0},
		{"io.Copy through ReadFrom", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(w, strings.NewReader(strings.Repeat("x", 1000)))
		}, 200, slog.LevelInfo, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, c := serve(t, httplog.Options{}, tt.h, httptest.NewRequest("GET", "/s", nil))
			e := c.mustOne(t)
			if w.Code != tt.wantCode || e.int(sidelog.KeyStatus) != int64(tt.wantCode) || e.Level != tt.wantLevel {
				t.Errorf("code %d, recorded %d at %v; want %d at %v", w.Code, e.int(sidelog.KeyStatus), e.Level, tt.wantCode, tt.wantLevel)
			}
			if tt.wantBytes >= 0 && e.int(httplog.KeyResponseBytes) != tt.wantBytes {
				t.Errorf("bytes = %d, want %d", e.int(httplog.KeyResponseBytes), tt.wantBytes)
			}
			if got := int64(w.Body.Len()); got != e.int(httplog.KeyResponseBytes) {
				t.Errorf("body has %d bytes, recorded %d", got, e.int(httplog.KeyResponseBytes))
			}
		})
	}
}

func TestMiddleware_LevelOptions(t *testing.T) {
	t.Parallel()
	opts := httplog.Options{Level: func(status int) slog.Level {
		if status == 404 {
			return slog.LevelDebug
		}
		return httplog.DefaultLevel(status)
	}}
	_, c := serve(t, opts, http.NotFoundHandler(), httptest.NewRequest("GET", "/", nil))
	if got := c.mustOne(t).Level; got != slog.LevelDebug {
		t.Errorf("level = %v, want debug", got)
	}
}

func TestMiddleware_NotEnabled(t *testing.T) {
	t.Parallel()
	c := newCapture()
	c.min = slog.LevelWarn
	called := false
	opts := httplog.Options{UserFunc: func(*http.Request) (string, string) { called = true; return "u", "" }}
	mw := httplog.New(slog.New(c), opts)
	mw(okHandler).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if len(c.all()) != 0 || called {
		t.Errorf("records %d, UserFunc called %v; want none below the logger's level", len(c.all()), called)
	}
	mw(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if len(c.all()) != 1 || !called {
		t.Errorf("records %d, UserFunc called %v; want the 404 logged", len(c.all()), called)
	}
}

func TestMiddleware_User(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		userFunc   func(*http.Request) (string, string)
		withUser   bool
		wantUser   string
		wantTenant string
	}{
		{"none", nil, false, "", ""},
		{"from context", nil, true, "ctx-user", "ctx-tenant"},
		{"from func", func(*http.Request) (string, string) { return "f-user", "f-tenant" }, true, "f-user", "f-tenant"},
		{"func empty falls back", func(*http.Request) (string, string) { return "", "" }, true, "ctx-user", "ctx-tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.withUser {
					_ = sidelog.WithUser(r.Context(), "ctx-user", "ctx-tenant")
				}
			})
			_, c := serve(t, httplog.Options{UserFunc: tt.userFunc}, h, httptest.NewRequest("GET", "/", nil))
			e := c.mustOne(t)
			if e.str(sidelog.KeyUserID) != tt.wantUser || e.str(sidelog.KeyTenantID) != tt.wantTenant {
				t.Errorf("user/tenant = %q/%q, want %q/%q", e.str(sidelog.KeyUserID), e.str(sidelog.KeyTenantID), tt.wantUser, tt.wantTenant)
			}
		})
	}
}

func TestMiddleware_SkipSampleSlow(t *testing.T) {
	t.Parallel()
	const slow = 100 * time.Millisecond
	type req struct {
		path   string
		status int
		took   time.Duration
		panics bool
	}
	tests := []struct {
		name      string
		opts      httplog.Options
		rand      float64
		req       req
		wantLog   bool
		wantSlow  bool
		wantLevel slog.Level
	}{
		{"logged", httplog.Options{}, 0, req{"/a", 200, 0, false}, true, false, slog.LevelInfo},
		{"skip path", httplog.Options{SkipPaths: []string{"/healthz", "/static/"}}, 0, req{"/static/app.css", 200, 0, false}, false, false, 0},
		{"skip path 5xx still skipped", httplog.Options{SkipPaths: []string{"/healthz"}}, 0, req{"/healthz", 503, 0, false}, false, false, 0},
		{"skip path panic logged", httplog.Options{SkipPaths: []string{"/healthz"}}, 0, req{"/healthz", 0, 0, true}, true, false, slog.LevelError},
		{"skip path no match", httplog.Options{SkipPaths: []string{"/static/"}}, 0, req{"/statistics", 200, 0, false}, true, false, slog.LevelInfo},
		{"skip func", httplog.Options{Skip: func(r *http.Request) bool { return r.Method == "GET" }}, 0, req{"/a", 200, 0, false}, false, false, 0},
		{"sampled in", httplog.Options{SampleRate: 0.25}, 0.2, req{"/a", 200, 0, false}, true, false, slog.LevelInfo},
		{"sampled out", httplog.Options{SampleRate: 0.25}, 0.3, req{"/a", 200, 0, false}, false, false, 0},
		{"sampled out 3xx", httplog.Options{SampleRate: 0.25}, 0.3, req{"/a", 304, 0, false}, false, false, 0},
		{"negative rate drops", httplog.Options{SampleRate: -1}, 0, req{"/a", 200, 0, false}, false, false, 0},
		{"never sample 4xx", httplog.Options{SampleRate: 0.25}, 0.99, req{"/a", 404, 0, false}, true, false, slog.LevelWarn},
		{"never sample 5xx", httplog.Options{SampleRate: -1}, 0.99, req{"/a", 500, 0, false}, true, false, slog.LevelError},
		{"never sample panic", httplog.Options{SampleRate: -1}, 0.99, req{"/a", 0, 0, true}, true, false, slog.LevelError},
		{"never sample slow", httplog.Options{SampleRate: -1, SlowThreshold: slow}, 0.99, req{"/a", 200, slow, false}, true, true, slog.LevelWarn},
		{"fast under threshold", httplog.Options{SlowThreshold: slow}, 0, req{"/a", 200, slow - 1, false}, true, false, slog.LevelInfo},
		{"slow level option", httplog.Options{SlowThreshold: slow, SlowLevel: slog.LevelInfo + 2}, 0, req{"/a", 200, time.Second, false}, true, true, slog.LevelInfo + 2},
		{"slow 5xx stays error", httplog.Options{SlowThreshold: slow}, 0, req{"/a", 500, time.Second, false}, true, true, slog.LevelError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			tt.opts.Now = clk.Now
			tt.opts.Rand = func() float64 { return tt.rand }
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				clk.Advance(tt.req.took)
				if tt.req.panics {
					panic("boom")
				}
				w.WriteHeader(tt.req.status)
			})
			_, c := serve(t, tt.opts, h, httptest.NewRequest("GET", tt.req.path, nil))
			got := c.requests()
			if !tt.wantLog {
				if len(got) != 0 {
					t.Fatalf("logged %+v, want nothing", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d records, want 1", len(got))
			}
			e := got[0]
			if e.Level != tt.wantLevel || e.has(httplog.KeySlow) != tt.wantSlow {
				t.Errorf("level %v slow %v, want %v %v", e.Level, e.has(httplog.KeySlow), tt.wantLevel, tt.wantSlow)
			}
		})
	}
}

// TestSetRoute: a router that keeps its pattern to itself (echo, gin)
// hands it to the record with SetRoute, from a context derived from the
// request's; RouteFunc still wins; outside the middleware it does nothing.
func TestSetRoute(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		httplog.SetRoute(ctx, "GET /orders/:id")
	})
	_, c := serve(t, httplog.Options{}, h, httptest.NewRequest("GET", "/orders/7", nil))
	if got := c.mustOne(t).str(sidelog.KeyRoute); got != "GET /orders/:id" {
		t.Errorf("route %q, want the one given to SetRoute", got)
	}
	_, c = serve(t, httplog.Options{RouteFunc: func(*http.Request) string { return "from RouteFunc" }}, h, httptest.NewRequest("GET", "/orders/7", nil))
	if got := c.mustOne(t).str(sidelog.KeyRoute); got != "from RouteFunc" {
		t.Errorf("route %q, want RouteFunc's", got)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plain/{id}", func(http.ResponseWriter, *http.Request) {})
	_, c = serve(t, httplog.Options{}, mux, httptest.NewRequest("GET", "/plain/7", nil))
	if got := c.mustOne(t).str(sidelog.KeyRoute); got != "GET /plain/{id}" {
		t.Errorf("route %q, want the ServeMux pattern", got)
	}
	httplog.SetRoute(context.Background(), "x") // no request: nothing happens
}
