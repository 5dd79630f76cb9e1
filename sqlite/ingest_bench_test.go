package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/gen"
	"github.com/sidelog/sidelog/sqlite"
)

var realisticRecs = sync.OnceValue(func() []sidelog.Record {
	var out []sidelog.Record
	for r := range gen.Records(gen.Options{Rows: 200_000, Seed: 8, Span: time.Hour}) {
		out = append(out, r)
	}
	return out
})

// BenchmarkWriteRealistic is the store's half of the handler's
// BenchmarkIngestRealistic: the same 200,000 realistic records (all of
// today) written straight through WriteBatch, in batches of 1,000 and of
// 16,384 (the handler's BatchSize and MaxBatchSize), for finding where
// the writer's time goes without the slog side. The derived=off variants
// turn the attribute index, key counts and request rollups off: what they
// cost the writer on today's records (issue 9's write-cost figure).
//
//	go test ./sqlite -run XXX -bench WriteRealistic -benchtime 1x -count 3
func BenchmarkWriteRealistic(b *testing.B) {
	src := realisticRecs()
	// SIDELOG_RETENTION_BEFORE=1: checkpoints in the writer, as before.
	if os.Getenv("SIDELOG_RETENTION_BEFORE") == "1" {
		sqlite.SetRetentionBefore(true)
		defer sqlite.SetRetentionBefore(false)
	}
	sizes := []int{1000, 16384}
	if s := os.Getenv("SIDELOG_BATCH"); s != "" {
		n, _ := strconv.Atoi(s)
		sizes = []int{n}
	}
	for _, size := range sizes {
		for _, off := range []bool{false, true} {
			name := "batch=" + strconv.Itoa(size)
			if off {
				name += "/derived=off"
			}
			b.Run(name, func(b *testing.B) {
				sqlite.SetDerivedOff(off)
				defer sqlite.SetDerivedOff(false)
				writeRealistic(b, src, size)
			})
		}
	}
}

func writeRealistic(b *testing.B, src []sidelog.Record, size int) {
	for range b.N {
		b.StopTimer()
		recs := append([]sidelog.Record(nil), src...)
		now := time.Now()
		for i := range recs {
			recs[i].Time = now.Add(time.Duration(i-len(recs)) * time.Microsecond)
		}
		dir := b.TempDir()
		db, err := sqlite.Open(context.Background(), filepath.Join(dir, "logs.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cpu0, t0 := cpuSec(), time.Now()
		for i := 0; i < len(recs); i += size {
			if err := db.WriteBatch(context.Background(), recs[i:min(i+size, len(recs))]); err != nil {
				b.Fatal(err)
			}
		}
		wall, cpu := time.Since(t0).Seconds(), cpuSec()-cpu0
		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(recs))/wall, "rows/s")
		b.ReportMetric(cpu/float64(len(recs))*1e6, "cpu-µs/row")
		b.ReportMetric(float64(dirBytes(b, dir))/float64(len(recs))*1e6/(1<<20), "MiB/Mrows")
	}
}

func dirBytes(tb testing.TB, dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
