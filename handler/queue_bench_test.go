package handler

import (
	"log/slog"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// threadCPU reports the benchmark thread's CPU time per op: the
// producer's own cost, without the consumer's.
func threadCPU(b *testing.B) func() {
	runtime.LockOSThread()
	now := func() int64 {
		var ru syscall.Rusage
		syscall.Getrusage(1, &ru) // RUSAGE_THREAD
		return ru.Utime.Nano() + ru.Stime.Nano()
	}
	start := now()
	return func() {
		b.ReportMetric(float64(now()-start)/float64(b.N), "thread-cpu-ns/op")
		runtime.UnlockOSThread()
	}
}

// BenchmarkQueue compares the hand-over of one record: the pipeline's
// mutex-guarded ring (a consumer drains it) against a buffered channel of
// the same items. It decided the queue's shape.
func BenchmarkQueue(b *testing.B) {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "m", 0)
	r.AddAttrs(slog.String("path", "/x"), slog.Int("status", 200), slog.Bool("ok", true), slog.Int("n", 1))
	b.Run("ring", func(b *testing.B) {
		o := (&Options{Fallback: discard{}}).withDefaults()
		p := newPipeline(nopWriter{}, o)
		defer p.close(b.Context())
		b.ReportAllocs()
		defer threadCPU(b)()
		for b.Loop() {
			it := item{rec: r.Clone(), size: itemBase}
			p.enqueue(&it)
		}
		b.ReportMetric(float64(p.dropped.Load())/float64(b.N), "dropped/op")
	})
	b.Run("channel", func(b *testing.B) {
		ch := make(chan item, DefaultQueueSize)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range ch {
			}
		}()
		b.ReportAllocs()
		report := threadCPU(b)
		for b.Loop() {
			ch <- item{rec: r.Clone(), size: itemBase}
		}
		report()
		close(ch)
		<-done
	})
}
