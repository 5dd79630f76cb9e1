package handler_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
)

// memWriter is a BatchWriter that keeps records in memory. fail, when set,
// is asked before each batch and may return an error instead.
type memWriter struct {
	mu    sync.Mutex
	recs  []sidelog.Record
	calls int
	fail  func(call int, recs []sidelog.Record) error
}

func (w *memWriter) WriteBatch(ctx context.Context, recs []sidelog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if w.fail != nil {
		if err := w.fail(w.calls, recs); err != nil {
			return err
		}
	}
	for i := range recs {
		recs[i].ID = int64(len(w.recs) + 1)
		w.recs = append(w.recs, recs[i])
	}
	return nil
}

func (w *memWriter) setFail(f func(call int, recs []sidelog.Record) error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fail = f
}

func (w *memWriter) records() []sidelog.Record {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]sidelog.Record(nil), w.recs...)
}

// syncBuffer is a goroutine-safe fallback writer.
type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

// MustNew returns a handler over w whose Close runs at the end of the test.
func MustNew(tb testing.TB, w sidelog.BatchWriter, o *handler.Options) *handler.Handler {
	tb.Helper()
	if o == nil {
		o = &handler.Options{}
	}
	if o.Fallback == nil {
		o.Fallback = &syncBuffer{}
	}
	h := handler.New(w, o)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return h
}

// MustFlush flushes h and fails the test on error.
func MustFlush(tb testing.TB, h *handler.Handler) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		tb.Fatalf("Flush: %v", err)
	}
}

// logOne logs through h, flushes and returns the one record written.
func logOne(tb testing.TB, h slog.Handler, w *memWriter, f func(*slog.Logger)) sidelog.Record {
	tb.Helper()
	n := len(w.records())
	f(slog.New(h))
	MustFlush(tb, h.(*handler.Handler))
	recs := w.records()
	if len(recs) != n+1 {
		tb.Fatalf("got %d records, want %d", len(recs), n+1)
	}
	return recs[n]
}

// attrsMap decodes a record's Attrs.
func attrsMap(tb testing.TB, r sidelog.Record) map[string]any {
	tb.Helper()
	m := map[string]any{}
	if r.Attrs == nil {
		return m
	}
	if err := json.Unmarshal(r.Attrs, &m); err != nil {
		tb.Fatalf("attrs %q: %v", r.Attrs, err)
	}
	return m
}

// recordMap is a record as slogtest wants it: the built-in keys and the
// attributes at the top level.
func recordMap(tb testing.TB, r sidelog.Record) map[string]any {
	tb.Helper()
	m := attrsMap(tb, r)
	m[slog.LevelKey] = r.Level
	m[slog.MessageKey] = r.Message
	if !r.Time.IsZero() {
		m[slog.TimeKey] = r.Time
	}
	return m
}
