package export_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/export"
)

// BenchmarkWriter_Memory writes b.N records in each format to io.Discard
// and reports the peak heap in use, sampled every 10,000 records: it must
// not grow with the number of records.
func BenchmarkWriter_Memory(b *testing.B) {
	for _, format := range export.Formats() {
		b.Run(format, func(b *testing.B) {
			w, _ := export.NewWriter(format, io.Discard)
			var peak uint64
			var ms runtime.MemStats
			r := sidelog.Record{Level: slog.LevelInfo, Kind: sidelog.KindRequest, Logger: "http", Method: "GET", Route: "GET /projects/{id}",
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", ClientIP: "10.1.2.3", Status: 200, Duration: time.Millisecond,
				Attrs: json.RawMessage(`{"bytes":1234}`)}
			t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
			b.ResetTimer()
			for i := range b.N {
				r.ID, r.Time = int64(i), t0.Add(time.Duration(i)*time.Millisecond)
				r.Message = fmt.Sprintf("GET /projects/%d 200", i%500)
				r.RequestID, r.UserID, r.Path = fmt.Sprintf("req%012d", i), fmt.Sprint(i%5000), fmt.Sprintf("/projects/%d", i%500)
				if err := w.Write(r); err != nil {
					b.Fatal(err)
				}
				if i%10000 == 0 {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
