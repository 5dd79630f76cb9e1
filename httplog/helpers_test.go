package httplog_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/httplog"
)

// entry is one captured log record with its attributes flattened.
type entry struct {
	Level   slog.Level
	Message string
	Attrs   map[string]slog.Value
	Scope   sidelog.Scope // what the record's context said
}

func (e entry) str(key string) string {
	v, ok := e.Attrs[key]
	if !ok {
		return ""
	}
	return v.Resolve().String()
}

func (e entry) has(key string) bool { _, ok := e.Attrs[key]; return ok }

func (e entry) int(key string) int64 {
	v := e.Attrs[key].Resolve()
	if v.Kind() == slog.KindInt64 {
		return v.Int64()
	}
	return -1
}

// capture is a slog.Handler that keeps every record, for tests.
type capture struct {
	mu      sync.Mutex
	min     slog.Level
	entries []entry
	added   chan struct{}
}

func newCapture() *capture { return &capture{min: slog.LevelDebug, added: make(chan struct{}, 1000)} }

func (c *capture) Enabled(_ context.Context, l slog.Level) bool { return l >= c.min }

func (c *capture) Handle(ctx context.Context, r slog.Record) error {
	e := entry{Level: r.Level, Message: r.Message, Attrs: map[string]slog.Value{}, Scope: sidelog.ScopeFrom(ctx)}
	r.Attrs(func(a slog.Attr) bool { e.Attrs[a.Key] = a.Value; return true })
	c.mu.Lock()
	c.entries = append(c.entries, e)
	c.mu.Unlock()
	c.added <- struct{}{}
	return nil
}

func (c *capture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *capture) WithGroup(string) slog.Handler      { return c }

// all returns the records captured so far.
func (c *capture) all() []entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]entry(nil), c.entries...)
}

// requests returns the captured records of kind request.
func (c *capture) requests() []entry {
	var out []entry
	for _, e := range c.all() {
		if e.str(sidelog.KeyKind) == "request" {
			out = append(out, e)
		}
	}
	return out
}

// waitRequest waits until n request records were captured and returns them.
func (c *capture) waitRequest(tb testing.TB, n int) []entry {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if got := c.requests(); len(got) >= n {
			return got
		}
		select {
		case <-c.added:
		case <-deadline:
			tb.Fatalf("waited for %d request records, have %d", n, len(c.requests()))
		}
	}
}

// mustOne returns the only request record, failing otherwise.
func (c *capture) mustOne(tb testing.TB) entry {
	tb.Helper()
	got := c.requests()
	if len(got) != 1 {
		tb.Fatalf("got %d request records, want 1: %+v", len(got), got)
	}
	return got[0]
}

// serve runs one request through the middleware into h and returns the
// recorder.
func serve(tb testing.TB, opts httplog.Options, h http.Handler, r *http.Request) (*httptest.ResponseRecorder, *capture) {
	tb.Helper()
	c := newCapture()
	w := httptest.NewRecorder()
	httplog.New(slog.New(c), opts)(h).ServeHTTP(w, r)
	return w, c
}

// clock is a fake clock that handlers advance.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = w.Write([]byte("ok"))
})
