package otelcol_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/httplog"
	"github.com/sidelog/sidelog/ship"
	"github.com/sidelog/sidelog/sqlite"
)

var outageFor = flag.Duration("otelcol.outage", 10*time.Second,
	"how long TestShip_EndpointDown keeps the Collector away (the issue's figure is 1m; the default keeps CI short)")

// phaseNames are the phases of TestShip_EndpointDown.
var phaseNames = [...]string{"endpoint up", "endpoint down", "endpoint back, draining"}

// TestShip_EndpointDown runs an application — HTTP requests through the
// sidelog middleware, each writing a line of its own, and log calls at a
// steady rate beside them — that ships to a Collector, stops the Collector
// for -otelcol.outage and starts it again. The application does not
// notice: nothing is dropped or diverted, and its request latency and log
// call cost by phase are logged (not asserted: speed is measured, and the
// one-minute run reported, in BENCHMARKS.md). The lag metric grows during
// the outage and drains to zero after it, and every record arrives once.
func TestShip_EndpointDown(t *testing.T) {
	outage := *outageFor
	every := time.Millisecond // 1,000 log calls/s
	reqEvery := 5 * time.Millisecond
	if raceEnabled {
		every, reqEvery = 5*time.Millisecond, 25*time.Millisecond
	}
	ctx := context.Background()
	col := newCollector(t)
	col.start()
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

	// The application: a web server behind the middleware, and log calls.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /projects/{id}", func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "project loaded", "project_id", r.PathValue("id"))
		fmt.Fprintln(w, "ok")
	})
	srv := httptest.NewServer(httplog.New(log, httplog.Options{})(mux))
	defer srv.Close()
	var mu sync.Mutex
	phase := 0
	var costs, latencies [len(phaseNames)][]time.Duration
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
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
	go func() {
		defer wg.Done()
		tick := time.NewTicker(reqEvery)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			t0 := time.Now()
			resp, err := srv.Client().Get(fmt.Sprintf("%s/projects/%d", srv.URL, i%500))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			d := time.Since(t0)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("request %d: %s", i, resp.Status)
			}
			mu.Lock()
			latencies[phase] = append(latencies[phase], d)
			mu.Unlock()
		}
	}()
	setPhase := func(p int) {
		mu.Lock()
		phase = p
		mu.Unlock()
	}

	// Shipping as usual, then the outage: the lag grows, nothing is shipped.
	time.Sleep(min(outage/2, 5*time.Second))
	waitFor(t, 60*time.Second, func() bool { st := sh.Stats(); return st.Shipped > 0 && st.LagRecords < 200 })
	col.stop()
	setPhase(1)
	time.Sleep(300 * time.Millisecond) // an acknowledgement on its way when the Collector stopped is counted
	shippedBefore := sh.Stats().Shipped
	var lags []int64
	for end := time.Now().Add(outage); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		lags = append(lags, sh.Stats().LagRecords)
	}
	st := sh.Stats()
	t.Logf("during the outage: lag samples %v; %+v", lags, st)
	if st.Shipped != shippedBefore || st.Failed < 3 || st.LastError == "" || st.Lag < outage/2 {
		t.Fatalf("during the outage (%d shipped before it): %+v", shippedBefore, st)
	}
	if !slices.IsSorted(lags) || lags[len(lags)-1] < lags[1]+int64(outage/every)/2 {
		t.Fatalf("the lag did not grow with the outage: %v", lags)
	}

	// The endpoint is back: the lag drains while the application goes on.
	col.start()
	setPhase(2)
	waitFor(t, 120*time.Second, func() bool { st := sh.Stats(); return st.Shipped > shippedBefore && st.LagRecords < 200 })
	time.Sleep(time.Second) // a second of the drained state, for the figures
	close(stop)
	wg.Wait()
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
	pct := func(c []time.Duration, q int) time.Duration {
		if len(c) == 0 {
			return 0
		}
		return c[len(c)*q/100]
	}
	for i, name := range phaseNames {
		c, l := slices.Clone(costs[i]), slices.Clone(latencies[i])
		slices.Sort(c)
		slices.Sort(l)
		t.Logf("%s: log call p50 %v p99 %v (%d calls); request latency p50 %v p99 %v (%d requests)",
			name, pct(c, 50), pct(c, 99), len(c), pct(l, 50), pct(l, 99), len(l))
	}
}
