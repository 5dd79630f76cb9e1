package httplog_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/sidelog/sidelog/httplog"
)

// discardWriter is the cheapest http.ResponseWriter: the benchmark
// measures the middleware, not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// nopHandler is enabled for everything and does nothing, so the benchmark
// includes building the record's attributes.
type nopHandler struct{}

func (nopHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (nopHandler) Handle(context.Context, slog.Record) error { return nil }
func (h nopHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h nopHandler) WithGroup(string) slog.Handler           { return h }

// cpuTime returns the CPU time the process has used. On a shared machine
// it is steadier than wall time, which counts time spent waiting for a CPU;
// it also counts the GC's and the sidelog writer goroutine's work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMiddleware serves a trivial handler directly, bare and behind
// the middleware with several slog handlers; the difference between
// "bare" and the others is what the middleware adds per request.
func BenchmarkMiddleware(b *testing.B) {
	trivial := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	mw := func(h slog.Handler) http.Handler { return httplog.New(slog.New(h), httplog.Options{})(trivial) }
	cases := []struct {
		name string
		h    func(b *testing.B) http.Handler
	}{
		{"bare", func(*testing.B) http.Handler { return trivial }},
		{"nop", func(*testing.B) http.Handler { return mw(nopHandler{}) }},
		{"json-discard", func(*testing.B) http.Handler { return mw(slog.NewJSONHandler(io.Discard, nil)) }},
		{"sidelog", func(b *testing.B) http.Handler {
			_, store := mustStore(b, nil)
			b.Cleanup(func() {
				if st := store.Stats(); st.Dropped+st.Failed > 0 {
					b.Logf("sidelog handler dropped %d, failed %d", st.Dropped, st.Failed)
				}
			})
			return mw(store)
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h := c.h(b)
			r, _ := http.NewRequest("GET", "http://example.com/projects/42", nil)
			r.RemoteAddr = "192.0.2.1:54321"
			r.Header.Set("User-Agent", "bench/1.0")
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

func BenchmarkNewRequestID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = httplog.NewRequestID()
	}
}
