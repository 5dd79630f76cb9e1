package ship_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/gen"
	"github.com/sidelog/sidelog/ship"
	"github.com/sidelog/sidelog/sqlite"
)

const benchRows = 100_000

// benchStore returns a new log database of benchRows realistic records
// (gen: requests, application lines with nested attributes, audit and
// security events, unique request and order ids, 5,000 users) written
// over the last hour.
func benchStore(b *testing.B) *sqlite.DB {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	batch := make([]sidelog.Record, 0, 1000)
	for r := range gen.Records(gen.Options{Rows: benchRows, End: time.Now(), Span: time.Hour, Seed: 14}) {
		if batch = append(batch, r); len(batch) == cap(batch) {
			if err := db.WriteBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := db.WriteBatch(ctx, batch); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkShip ships (Drain) benchRows realistic records from a log
// database to an OTLP/HTTP endpoint in the process that reads and drops
// each request. "read" is the baseline: the same records read by
// ReadAfter in batches of the same size, and nothing else. cpu-µs/record
// is the process's CPU time per record.
func BenchmarkShip(b *testing.B) {
	db := benchStore(b)
	srv := httptest.NewServer(http.HandlerFunc(discard))
	defer srv.Close()
	ctx := context.Background()
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			cpu0, start := cpuTime(syscall.RUSAGE_SELF), time.Now()
			var pos sidelog.Position
			n := 0
			for {
				recs, next, err := db.ReadAfter(ctx, pos, 1000)
				if err != nil {
					b.Fatal(err)
				}
				if len(recs) == 0 {
					break
				}
				n += len(recs)
				pos = next
			}
			report(b, n, time.Since(start), cpuTime(syscall.RUSAGE_SELF)-cpu0)
		}
	})
	for _, comp := range []string{"gzip", "none"} {
		b.Run(comp, func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				name := fmt.Sprintf("bench-%s-%d", comp, i)
				sh, err := ship.New(db, ship.Options{Endpoint: srv.URL, Name: name, Compression: comp})
				if err != nil {
					b.Fatal(err)
				}
				cpu0, start := cpuTime(syscall.RUSAGE_SELF), time.Now()
				n, err := sh.Drain(ctx, time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				report(b, int(n), time.Since(start), cpuTime(syscall.RUSAGE_SELF)-cpu0)
				sh.Close(ctx)
				db.DeletePosition(ctx, name)
			}
		})
	}
}

func report(b *testing.B, n int, wall, cpu time.Duration) {
	if n != benchRows {
		b.Fatalf("%d records, want %d", n, benchRows)
	}
	b.ReportMetric(float64(n)/wall.Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/record")
}
