// Package promsidelog exports sidelog's log pipeline and log database to
// Prometheus as a prometheus.Collector. It is a package of its own so that
// the handler and the store do not depend on the Prometheus client: a
// service that does not use Prometheus never compiles it.
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(promsidelog.New(promsidelog.Options{Stats: h.Stats, DBSize: store.Size}))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The series (with the default namespace "sidelog"):
//
//	sidelog_records_written_total    counter    records the store committed
//	sidelog_records_dropped_total    counter    records refused because the queue was full
//	sidelog_records_failed_total     counter    records written to the fallback instead of the store
//	sidelog_write_retries_total      counter    batch writes that failed and were retried
//	sidelog_queue_depth              gauge      records waiting for the writer
//	sidelog_queue_bytes              gauge      their approximate memory
//	sidelog_blocked_calls_total      counter    log calls that waited for room (Block policy)
//	sidelog_blocked_seconds_total    counter    the time they waited, summed
//	sidelog_queue_waiting            gauge      log calls waiting for room now
//	sidelog_batch_latency_seconds    histogram  duration of each committed batch write
//	sidelog_redacted_total{rule}     counter    values the redactor replaced, by rule
//	sidelog_db_size_bytes            gauge      the log database on disk: catalog, day files, WAL
//
// The number of committed batches is sidelog_batch_latency_seconds_count.
package promsidelog

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sidelog/sidelog/handler"
)

// Options says what the collector reads. Either function may be nil; its
// series are then left out.
type Options struct {
	// Stats reports the pipeline's counters: a handler's Stats method.
	Stats func() handler.Stats
	// DBSize reports the log database's size on disk in bytes: a
	// sqlite.DB's Size method. It is called on every scrape, so it must
	// be cheap (Size reads the files' sizes, not their pages).
	DBSize func() int64
	// Namespace prefixes every series (default "sidelog").
	Namespace string
	// ConstLabels are added to every series, e.g. the database's name
	// when one process has several.
	ConstLabels prometheus.Labels
}

// Collector is a prometheus.Collector for one pipeline and its database.
type Collector struct {
	o                                      Options
	written, dropped, failed, retries      *prometheus.Desc
	depth, qbytes, latency, redacted, size *prometheus.Desc
	blocked, blockedTime, waiting          *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// New returns a collector for o. Register it with a prometheus.Registerer.
func New(o Options) *Collector {
	if o.Namespace == "" {
		o.Namespace = "sidelog"
	}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(o.Namespace, "", name), help, labels, o.ConstLabels)
	}
	return &Collector{
		o:           o,
		written:     d("records_written_total", "Records committed to the log database."),
		dropped:     d("records_dropped_total", "Records refused because the queue was full."),
		failed:      d("records_failed_total", "Records written to the fallback instead of the log database."),
		retries:     d("write_retries_total", "Batch writes that failed and were retried."),
		depth:       d("queue_depth", "Records waiting for the writer."),
		qbytes:      d("queue_bytes", "Approximate memory of the queued records."),
		latency:     d("batch_latency_seconds", "Duration of each committed batch write."),
		redacted:    d("redacted_total", "Values the redactor replaced, by rule.", "rule"),
		blocked:     d("blocked_calls_total", "Log calls that waited for room in the queue (Block policy)."),
		blockedTime: d("blocked_seconds_total", "Time log calls spent waiting for room in the queue, summed."),
		waiting:     d("queue_waiting", "Log calls waiting for room in the queue now."),
		size:        d("db_size_bytes", "Size on disk of the log database: catalog, day files and their WAL files."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	if c.o.Stats != nil {
		for _, d := range []*prometheus.Desc{c.written, c.dropped, c.failed, c.retries, c.depth, c.qbytes, c.latency, c.redacted, c.blocked, c.blockedTime, c.waiting} {
			ch <- d
		}
	}
	if c.o.DBSize != nil {
		ch <- c.size
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c.o.Stats != nil {
		st := c.o.Stats()
		counter := func(d *prometheus.Desc, v int64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
		}
		counter(c.written, st.Written)
		counter(c.dropped, st.Dropped)
		counter(c.failed, st.Failed)
		counter(c.retries, st.Retries)
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(st.QueueDepth))
		ch <- prometheus.MustNewConstMetric(c.qbytes, prometheus.GaugeValue, float64(st.QueueBytes))
		counter(c.blocked, st.Blocked)
		ch <- prometheus.MustNewConstMetric(c.blockedTime, prometheus.CounterValue, st.BlockedTime.Seconds())
		ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(st.Waiting))
		ch <- latencyHistogram(c.latency, st.BatchLatency)
		rules := make([]string, 0, len(st.Redacted))
		for r := range st.Redacted {
			rules = append(rules, r)
		}
		sort.Strings(rules)
		for _, r := range rules {
			counter(c.redacted, st.Redacted[r], r)
		}
	}
	if c.o.DBSize != nil {
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(c.o.DBSize()))
	}
}

// latencyHistogram turns the handler's bucket counts into a Prometheus
// histogram: cumulative counts by upper bound in seconds.
func latencyHistogram(d *prometheus.Desc, h handler.LatencyHistogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(handler.BatchLatencyBounds))
	var cum uint64
	for i, b := range handler.BatchLatencyBounds {
		cum += h.Counts[i]
		buckets[b.Seconds()] = cum
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum.Seconds(), buckets)
}
