package sentry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sentry"
)

// BenchmarkHandler_ErrorRecord measures what an error record costs the
// goroutine that logs it: baseline is the application's handler alone
// (JSON to io.Discard), sentry the same handler wrapped by the Sentry
// handler, which builds the event and hands it to the SDK (serialised on
// the caller, sent by the SDK's goroutine to a local tracker). info-record
// shows that records below the forwarding level cost nothing more.
//
//	go test -run '^$' -bench HandlerErrorRecord -benchmem ./sentry/
func BenchmarkHandler_ErrorRecord(b *testing.B) {
	tracker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer tracker.Close()
	dsn := strings.Replace(tracker.URL, "http://", "http://key@", 1) + "/1"
	next := slog.NewJSONHandler(io.Discard, nil)
	ctx := sidelog.WithUser(sidelog.WithRequest(context.Background(), "01j9x7k2m4n8p6q3r5s7t9v1w3"), "4711", "42")
	errs := make([]error, 64)
	for i := range errs {
		errs[i] = fmt.Errorf("charge order %d: %w", 10_000+i, errors.New("card declined"))
	}
	run := func(b *testing.B, h slog.Handler, level slog.Level) {
		log := slog.New(h).With("logger", "billing")
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			log.Log(ctx, level, "payment failed", "error", errs[i%len(errs)], "order_id", 10_000+i, "amount_cents", 1299+i%500, "path", fmt.Sprintf("/orders/%d/pay", i))
			i++
		}
	}
	b.Run("baseline", func(b *testing.B) { run(b, next, slog.LevelError) })
	b.Run("sentry", func(b *testing.B) {
		h, err := sentry.New(next, dsn, sentry.Options{QueueSize: 1000})
		if err != nil {
			b.Fatal(err)
		}
		run(b, h, slog.LevelError)
		b.StopTimer()
		h.Close(context.Background())
		st := h.Stats()
		b.ReportMetric(float64(st.Dropped)/float64(b.N), "dropped/op")
	})
	b.Run("info-record", func(b *testing.B) {
		h, err := sentry.New(next, dsn, sentry.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close(context.Background())
		run(b, h, slog.LevelInfo)
	})
}
