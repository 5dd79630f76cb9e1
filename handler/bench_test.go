package handler_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
)

// discardWriter accepts every batch at once.
type discardWriter struct{}

func (discardWriter) WriteBatch(context.Context, []sidelog.Record) error { return nil }

// logFour is the call both sides of BenchmarkCallerCost make.
func logFour(l *slog.Logger, ctx context.Context) {
	l.InfoContext(ctx, "request handled",
		slog.String("path", "/api/projects/42"),
		slog.Int("status", 200),
		slog.Duration("elapsed", 1234*time.Microsecond),
		slog.Bool("cached", true),
	)
}

// BenchmarkCallerCost is the cost of a log call with four attributes to the
// caller: slog.JSONHandler into io.Discard against this handler in front of
// a store that discards, so the queue never fills and only the hand-over
// is measured. dropped/op must stay 0.
func BenchmarkCallerCost(b *testing.B) {
	ctx := context.Background()
	b.Run("JSONHandler", func(b *testing.B) {
		l := slog.New(slog.NewJSONHandler(io.Discard, nil))
		b.ReportAllocs()
		for b.Loop() {
			logFour(l, ctx)
		}
	})
	b.Run("sidelog", func(b *testing.B) {
		h := handler.New(discardWriter{}, &handler.Options{Fallback: io.Discard})
		l := slog.New(h)
		b.ReportAllocs()
		for b.Loop() {
			logFour(l, ctx)
		}
		b.StopTimer()
		h.Close(ctx)
		st := h.Stats()
		b.ReportMetric(float64(st.Dropped)/float64(b.N), "dropped/op")
		b.ReportMetric(float64(st.Written)/float64(b.N), "written/op")
	})
}
