package sqlite_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// BenchmarkColdQuery measures the first query after Open (what every CLI
// call pays) beside the same query on a store already open, on an existing
// database (SIDELOG_COLD_DB, for example one made by 'sidelog gen --rows
// 5000000'); skipped without one. Each run opens the store, times Open and
// the first query, runs the query again warm, and closes the store.
//
//	SIDELOG_COLD_DB=/tmp/q5m/logs.db go test -run '^$' -bench ColdQuery -benchtime 10x ./sqlite/
func BenchmarkColdQuery(b *testing.B) {
	path := os.Getenv("SIDELOG_COLD_DB")
	if path == "" {
		b.Skip("SIDELOG_COLD_DB is not set")
	}
	ctx := context.Background()
	for _, q := range []string{"", "level>=error", "kind:request", "user:4462", "request:nosuchrequest", "zq4321x", "cache", "order.id:nosuchorder", "lvl:warn", "since:1h"} {
		b.Run("q="+q, func(b *testing.B) {
			var open, cold, warm []float64
			for range b.N {
				t0 := time.Now()
				db, err := sqlite.Open(ctx, path, sqlite.Options{MustExist: true})
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				f, err := sidelog.ParseQuery(q, t1)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := db.Query(ctx, f, sidelog.Page{Limit: 50}); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				if _, err := db.Query(ctx, f, sidelog.Page{Limit: 50}); err != nil {
					b.Fatal(err)
				}
				t3 := time.Now()
				db.Close()
				open = append(open, ms(t1.Sub(t0)))
				cold = append(cold, ms(t2.Sub(t1)))
				warm = append(warm, ms(t3.Sub(t2)))
			}
			b.ReportMetric(median(open), "open-ms")
			b.ReportMetric(median(cold), "first-ms")
			b.ReportMetric(median(warm), "warm-ms")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}
