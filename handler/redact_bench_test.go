package handler_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/redact"
	"github.com/sidelog/sidelog/sqlite"
)

// BenchmarkRedaction measures what redaction costs, with it on (the
// default) and off in the same run: the caller's cost of the four-attribute
// call of BenchmarkCallerCost (thread-cpu-ns/op is the caller's thread
// only; redaction runs in the writer goroutine), and ingest from slog call
// to committed row in the real store with one producer.
func BenchmarkRedaction(b *testing.B) {
	ctx := sidelog.WithRequest(context.Background(), "req-1")
	modes := []struct {
		name string
		red  *redact.Redactor
	}{{"on", nil}, {"off", redact.Disabled()}}
	for _, m := range modes {
		b.Run("caller/redact="+m.name, func(b *testing.B) {
			h := handler.New(discardWriter{}, &handler.Options{Fallback: io.Discard, Redactor: m.red})
			l := slog.New(h)
			b.ReportAllocs()
			report := threadCPU(b)
			for b.Loop() {
				logArgs(ctx, l)
			}
			report()
			h.Close(ctx)
			b.ReportMetric(float64(h.Stats().Dropped)/float64(b.N), "dropped/op")
		})
	}
	for _, m := range modes {
		b.Run("ingest/redact="+m.name, func(b *testing.B) {
			db, _ := MustOpenDB(b, sqlite.Options{})
			h := handler.New(db, &handler.Options{BlockTimeout: time.Minute, Fallback: io.Discard, Redactor: m.red})
			l := slog.New(h)
			b.ResetTimer()
			cpu0 := rusageSelf()
			for range b.N {
				logArgs(ctx, l)
			}
			if err := h.Close(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if st := h.Stats(); st.Written != int64(b.N) {
				b.Fatalf("written %d of %d", st.Written, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(rusageSelf()-cpu0)/float64(b.N), "cpu-ns/record")
		})
	}
}
