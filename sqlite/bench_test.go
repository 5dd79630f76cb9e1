package sqlite_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/gen"
)

// BenchmarkWriteBatch measures the store's insert rate for generated
// request-like records in batches of 1,000 (the handler's default).
func BenchmarkWriteBatch(b *testing.B) {
	db := MustOpen(b)
	end := time.Now()
	recs := slices.Collect(gen.Records(gen.Options{Rows: 200000, End: end, Span: time.Hour, Seed: 2}))
	batch := make([]sidelog.Record, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		off := (i * 1000) % len(recs)
		copy(batch, recs[off:off+1000])
		for j := range batch {
			batch[j].Time = end.Add(time.Duration(i*1000+j) * time.Microsecond)
		}
		if err := db.WriteBatch(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkQuery measures newest-50 queries that must visit every file of
// ten days (rare matches), where the fixed cost per file dominates.
func BenchmarkQuery(b *testing.B) {
	db := MustOpen(b)
	end := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	recs := slices.Collect(gen.Records(gen.Options{Rows: 100000, End: end, Span: 10 * sidelog.Day, Seed: 3}))
	for i := 0; i < len(recs); i += 5000 {
		if err := db.WriteBatch(context.Background(), recs[i:i+5000]); err != nil {
			b.Fatal(err)
		}
	}
	warn := slog.LevelWarn
	for _, c := range []struct {
		name string
		f    sidelog.Filter
	}{
		{"request", sidelog.Filter{RequestID: recs[len(recs)/2].RequestID}},
		{"ip", sidelog.Filter{ClientIP: "10.9.9.9"}},
		{"user-warn", sidelog.Filter{UserID: "42", MinLevel: &warn}},
		{"text-none", sidelog.Filter{Text: "nosuchwordanywhere"}},
		{"newest", sidelog.Filter{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := db.Query(context.Background(), c.f, sidelog.Page{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
