package sqlite_test

import (
	"context"
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
