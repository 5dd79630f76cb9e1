package promsidelog_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/promsidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// A real handler over a real store: the counters and the histogram say
// what the pipeline did.
func TestCollector(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := handler.New(st, nil)
	log := slog.New(h)
	for i := range 50 {
		log.Info("hello", "i", i)
		if i%10 == 9 {
			if err := h.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := promsidelog.New(promsidelog.Options{Stats: h.Stats, DBSize: st.Size})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if n, err := testutil.GatherAndCount(reg); err != nil || n < 8 {
		t.Fatalf("gathered %d series: %v", n, err)
	}
	stats := h.Stats()
	want := `
# HELP sidelog_records_written_total Records committed to the log database.
# TYPE sidelog_records_written_total counter
sidelog_records_written_total 50
# HELP sidelog_records_dropped_total Records refused because the queue was full.
# TYPE sidelog_records_dropped_total counter
sidelog_records_dropped_total 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "sidelog_records_written_total", "sidelog_records_dropped_total"); err != nil {
		t.Error(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		switch f.GetName() {
		case "sidelog_batch_latency_seconds":
			hist := f.GetMetric()[0].GetHistogram()
			if hist.GetSampleCount() != uint64(stats.Batches) || stats.Batches < 5 {
				t.Errorf("histogram count %d, batches %d", hist.GetSampleCount(), stats.Batches)
			}
			last := hist.GetBucket()[len(hist.GetBucket())-1]
			if last.GetUpperBound() != 10 || last.GetCumulativeCount() > hist.GetSampleCount() {
				t.Errorf("last bucket %v of %d", last, hist.GetSampleCount())
			}
		case "sidelog_db_size_bytes":
			if v := f.GetMetric()[0].GetGauge().GetValue(); v < 4096 {
				t.Errorf("size %v", v)
			}
		}
	}
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// The handler's bucket counts become cumulative Prometheus buckets, with
// durations above every bound only in the count.
func TestCollector_Buckets(t *testing.T) {
	var lh handler.LatencyHistogram
	lh.Counts[0] = 2                               // ≤ 1 ms
	lh.Counts[3] = 1                               // ≤ 10 ms
	lh.Counts[len(handler.BatchLatencyBounds)] = 1 // above 10 s
	lh.Count, lh.Sum = 4, 12*time.Second
	c := promsidelog.New(promsidelog.Options{Stats: func() handler.Stats { return handler.Stats{BatchLatency: lh} }})
	want := `
# HELP sidelog_batch_latency_seconds Duration of each committed batch write.
# TYPE sidelog_batch_latency_seconds histogram
sidelog_batch_latency_seconds_bucket{le="0.001"} 2
sidelog_batch_latency_seconds_bucket{le="0.0025"} 2
sidelog_batch_latency_seconds_bucket{le="0.005"} 2
sidelog_batch_latency_seconds_bucket{le="0.01"} 3
sidelog_batch_latency_seconds_bucket{le="0.025"} 3
sidelog_batch_latency_seconds_bucket{le="0.05"} 3
sidelog_batch_latency_seconds_bucket{le="0.1"} 3
sidelog_batch_latency_seconds_bucket{le="0.25"} 3
sidelog_batch_latency_seconds_bucket{le="0.5"} 3
sidelog_batch_latency_seconds_bucket{le="1"} 3
sidelog_batch_latency_seconds_bucket{le="2.5"} 3
sidelog_batch_latency_seconds_bucket{le="5"} 3
sidelog_batch_latency_seconds_bucket{le="10"} 3
sidelog_batch_latency_seconds_bucket{le="+Inf"} 4
sidelog_batch_latency_seconds_sum 12
sidelog_batch_latency_seconds_count 4
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "sidelog_batch_latency_seconds"); err != nil {
		t.Error(err)
	}
}

// The Block policy's waits are exported from Stats.
func TestCollector_Blocked(t *testing.T) {
	c := promsidelog.New(promsidelog.Options{Stats: func() handler.Stats {
		return handler.Stats{Blocked: 7, BlockedTime: 1500 * time.Millisecond, Waiting: 2}
	}})
	want := `
# HELP sidelog_blocked_calls_total Log calls that waited for room in the queue (Block policy).
# TYPE sidelog_blocked_calls_total counter
sidelog_blocked_calls_total 7
# HELP sidelog_blocked_seconds_total Time log calls spent waiting for room in the queue, summed.
# TYPE sidelog_blocked_seconds_total counter
sidelog_blocked_seconds_total 1.5
# HELP sidelog_queue_waiting Log calls waiting for room in the queue now.
# TYPE sidelog_queue_waiting gauge
sidelog_queue_waiting 2
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "sidelog_blocked_calls_total", "sidelog_blocked_seconds_total", "sidelog_queue_waiting"); err != nil {
		t.Error(err)
	}
}
