//go:build driverbench

package driverbench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var fixture = sync.OnceValues(func() (string, error) {
	return FixturePath(context.Background(), fixtureRows, func(f string, a ...any) { fmt.Printf(f+"\n", a...) })
})

// mustCopyFixture copies the million-row segment into a temporary directory
// and opens the copy with d.
func mustCopyFixture(tb testing.TB, d Driver) string {
	tb.Helper()
	src, err := fixture()
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "segment.db")
	if err := copyFile(path, src); err != nil {
		tb.Fatal(err)
	}
	return path
}

// allIndexes are the secondary indexes of logs in the segment schema.
var allIndexes = []string{"logs_ts", "logs_level", "logs_kind", "logs_logger", "logs_msg", "logs_request",
	"logs_trace", "logs_user", "logs_tenant", "logs_path", "logs_status", "logs_err", "logs_ip"}

// BenchmarkInsert writes batches of 10,000 rows (100 per statement) into a
// copy of the million-row segment with each driver.
func BenchmarkInsert(b *testing.B) {
	for _, d := range Drivers() {
		b.Run(d.Name, func(b *testing.B) { benchInsert(b, d, nil) })
	}
}

// BenchmarkInsertIndexes measures what the costliest indexes cost the
// insert rate, with modernc.
func BenchmarkInsertIndexes(b *testing.B) {
	variants := []struct {
		name string
		drop []string
	}{
		{"all", nil},
		{"no_request", []string{"logs_request"}},
		{"no_ip", []string{"logs_ip"}},
		{"no_request_ip", []string{"logs_request", "logs_ip"}},
		{"no_secondary", allIndexes},
	}
	d := Drivers()[0]
	for _, v := range variants {
		b.Run(d.Name+"/"+v.name, func(b *testing.B) { benchInsert(b, d, v.drop) })
	}
}

func benchInsert(b *testing.B, d Driver, drop []string) {
	ctx := b.Context()
	db, err := d.Open(ctx, mustCopyFixture(b, d))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	v, err := Version(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	for _, ix := range drop {
		if _, err := db.ExecContext(ctx, "DROP INDEX "+ix); err != nil {
			b.Fatal(err)
		}
	}
	w, err := newWriter(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	ts, err := lastTS(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	g := newGen(2, ts)
	// One untimed batch warms the page cache, as a running writer's is.
	if err := w.writeBatch(ctx, g.batch(batchRows)); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: sqlite %s, segment starts at %d rows", d.Name, v, fixtureRows+batchRows)
	n := 0
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		rows := g.batch(batchRows)
		b.StartTimer()
		c0 := cpuTime()
		if err := w.writeBatch(ctx, rows); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		n++
	}
	b.ReportMetric(float64(n*batchRows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(n*batchRows)/cpu.Seconds(), "rows/cpu-s")
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(n), "ms/batch")
}

// BenchmarkQuery runs the viewer's questions on a copy of the million-row
// segment with each driver.
func BenchmarkQuery(b *testing.B) {
	for _, d := range Drivers() {
		b.Run(d.Name, func(b *testing.B) {
			ctx := b.Context()
			db, err := d.Open(ctx, mustCopyFixture(b, d))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			p, err := LoadParams(ctx, db)
			if err != nil {
				b.Fatal(err)
			}
			for _, q := range Queries {
				b.Run(q.Name, func(b *testing.B) { benchQuery(b, db, q, p) })
			}
		})
	}
}

func benchQuery(b *testing.B, db *sql.DB, q Query, p Params) {
	ctx := b.Context()
	n, err := q.Run(ctx, db, p) // warms the page cache; checks there is an answer
	if err != nil {
		b.Fatal(err)
	}
	if n == 0 {
		b.Fatalf("%s: no rows", q.Name)
	}
	iters := 0
	c0 := cpuTime()
	for b.Loop() {
		if _, err := q.Run(ctx, db, p); err != nil {
			b.Fatal(err)
		}
		iters++
	}
	cpu := cpuTime() - c0
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(iters), "ms/op")
	b.ReportMetric(cpu.Seconds()*1e3/float64(iters), "cpu-ms/op")
	b.ReportMetric(float64(n), "rows")
}

// BenchmarkBuild fills an empty segment with 100,000 rows with each driver
// and reports the rate and the file size per million rows.
func BenchmarkBuild(b *testing.B) {
	const n = 100_000
	for _, d := range Drivers() {
		b.Run(d.Name, func(b *testing.B) {
			ctx := b.Context()
			dir := b.TempDir()
			i := 0
			var size int64
			for b.Loop() {
				path := filepath.Join(dir, fmt.Sprintf("segment-%d.db", i))
				i++
				if err := buildSegment(ctx, d, path, n, func(string, ...any) {}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				db, err := d.Open(ctx, path)
				if err != nil {
					b.Fatal(err)
				}
				if size, err = fileBytes(ctx, db); err != nil {
					b.Fatal(err)
				}
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(i*n)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(size)*1e6/n, "bytes/Mrow")
		})
	}
}
