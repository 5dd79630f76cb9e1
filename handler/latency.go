package handler

import (
	"sync/atomic"
	"time"
)

// BatchLatencyBounds are the upper bounds of the buckets of
// Stats.BatchLatency, from a millisecond (a small batch on a quiet disk) to
// ten seconds (a batch held up by retention or a slow disk).
var BatchLatencyBounds = [...]time.Duration{
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// LatencyHistogram counts durations in the buckets of BatchLatencyBounds:
// Counts[i] is how many were at most BatchLatencyBounds[i] and above the
// bound before; the last count is of those above every bound. It is what a
// Prometheus histogram needs (package promsidelog exports it as one).
type LatencyHistogram struct {
	Counts [len(BatchLatencyBounds) + 1]uint64
	Count  uint64        // all of them
	Sum    time.Duration // their total
}

// latencyCounts is a LatencyHistogram updated without locks by the writer
// goroutine and read by Stats.
type latencyCounts struct {
	counts [len(BatchLatencyBounds) + 1]atomic.Uint64
	sum    atomic.Int64
}

func (l *latencyCounts) observe(d int64) {
	i := 0
	for i < len(BatchLatencyBounds) && d > int64(BatchLatencyBounds[i]) {
		i++
	}
	l.counts[i].Add(1)
	l.sum.Add(d)
}

// snapshot reads the counts. The writer may add one meanwhile, so Count is
// the sum of the counts read, and Sum can be a batch ahead or behind.
func (l *latencyCounts) snapshot() LatencyHistogram {
	var h LatencyHistogram
	for i := range l.counts {
		h.Counts[i] = l.counts[i].Load()
		h.Count += h.Counts[i]
	}
	h.Sum = time.Duration(l.sum.Load())
	return h
}
