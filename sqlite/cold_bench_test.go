package sqlite_test

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
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
			var open, cold, warm, cpu []float64
			for range b.N {
				t0 := time.Now()
				db, err := sqlite.Open(ctx, path, sqlite.Options{MustExist: true})
				if err != nil {
					b.Fatal(err)
				}
				t1, c1 := time.Now(), cpuSec()
				f, err := sidelog.ParseQuery(q, t1)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := db.Query(ctx, f, sidelog.Page{Limit: 50}); err != nil {
					b.Fatal(err)
				}
				t2, c2 := time.Now(), cpuSec()
				if _, err := db.Query(ctx, f, sidelog.Page{Limit: 50}); err != nil {
					b.Fatal(err)
				}
				t3 := time.Now()
				db.Close()
				open = append(open, ms(t1.Sub(t0)))
				cold = append(cold, ms(t2.Sub(t1)))
				cpu = append(cpu, (c2-c1)*1000)
				warm = append(warm, ms(t3.Sub(t2)))
			}
			b.ReportMetric(median(open), "open-ms")
			b.ReportMetric(median(cpu), "first-cpu-ms")
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

// BenchmarkChartWindows measures Histogram over windows aligned to whole
// minutes and not (ending now, to the nanosecond, as a UI asks), beside a
// hand-written baseline in the same run: GROUP BY over the rows of each
// day file in the window, through the same driver. On an existing database
// (SIDELOG_COLD_DB); skipped without one.
//
//	SIDELOG_COLD_DB=/tmp/q5m/logs.db go test -run '^$' -bench ChartWindows -benchtime 10x ./sqlite/
func BenchmarkChartWindows(b *testing.B) {
	path := os.Getenv("SIDELOG_COLD_DB")
	if path == "" {
		b.Skip("SIDELOG_COLD_DB is not set")
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{MustExist: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	res, err := db.Query(ctx, sidelog.Filter{}, sidelog.Page{Limit: 1})
	if err != nil || len(res.Records) == 0 {
		b.Fatal("no records", err)
	}
	end := res.Records[0].Time.Add(-7*time.Minute - 123456789) // inside a minute
	warn := slog.LevelWarn
	cases := []struct {
		name  string
		f     sidelog.Filter
		step  time.Duration
		naive string // the baseline's condition
	}{
		{"24h_by_30m_aligned", sidelog.Filter{Since: end.Add(-24 * time.Hour).Truncate(time.Minute), Until: end.Truncate(time.Minute)}, 30 * time.Minute, "1"},
		{"24h_by_30m_unaligned", sidelog.Filter{Since: end.Add(-24 * time.Hour), Until: end}, 30 * time.Minute, "1"},
		{"24h_by_1h_unaligned_warn", sidelog.Filter{Since: end.Add(-24 * time.Hour), Until: end, MinLevel: &warn}, time.Hour, "level >= 4"},
		{"30d_by_1d_unaligned", sidelog.Filter{Since: end.Add(-30 * sidelog.Day), Until: end}, sidelog.Day, "1"},
	}
	for _, c := range cases {
		var total int64
		b.Run(c.name, func(b *testing.B) {
			c0 := cpuSec()
			for range b.N {
				bs, err := db.Histogram(ctx, c.f, c.step)
				if err != nil {
					b.Fatal(err)
				}
				total = 0
				for _, x := range bs {
					total += x.Counts[0] + x.Counts[1] + x.Counts[2] + x.Counts[3]
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
			b.ReportMetric((cpuSec()-c0)*1000/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(total), "rows")
		})
		b.Run(c.name+"_naive", func(b *testing.B) {
			files, _ := filepath.Glob(path + ".d/*.db")
			var hs []*sql.DB
			for _, fn := range files {
				h, err := sql.Open("sqlite", "file:"+fn+"?mode=ro")
				if err != nil {
					b.Fatal(err)
				}
				defer h.Close()
				hs = append(hs, h)
			}
			n := min(b.N, 3)
			c0 := cpuSec()
			t0 := time.Now()
			var got int64
			for range n {
				got = 0
				for _, h := range hs {
					rows, err := h.QueryContext(ctx, `SELECT (ts - ?) / ?, CASE WHEN level < 0 THEN 0 WHEN level < 4 THEN 1 WHEN level < 8 THEN 2 ELSE 3 END, count(*)
						FROM logs WHERE ts >= ? AND ts < ? AND `+c.naive+` GROUP BY 1, 2`,
						c.f.Since.UnixNano(), int64(c.step), c.f.Since.UnixNano(), c.f.Until.UnixNano())
					if err != nil {
						b.Fatal(err)
					}
					for rows.Next() {
						var bk, lc, k int64
						rows.Scan(&bk, &lc, &k)
						got += k
					}
					rows.Close()
				}
			}
			b.ReportMetric(float64(time.Since(t0).Microseconds())/1000/float64(n), "ms/op")
			b.ReportMetric((cpuSec()-c0)*1000/float64(n), "cpu-ms/op")
			b.ReportMetric(float64(got), "rows")
			if got != total {
				b.Errorf("the store counts %d rows, the baseline %d", total, got)
			}
		})
	}
}
