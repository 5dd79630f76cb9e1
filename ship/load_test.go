package ship_test

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
	"syscall"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/ship"
	"github.com/sidelog/sidelog/sqlite"
)

var (
	loadFor    = flag.Duration("ship.load", 0, "run TestLoad for this long per round (e.g. 20s); 0 skips it")
	loadRate   = flag.Int("ship.rate", 20000, "records per second TestLoad logs")
	loadRounds = flag.Int("ship.rounds", 2, "rounds of TestLoad (each: without, then with the shipper)")
)

// discard is an OTLP/HTTP endpoint that reads and drops each request: the
// cheapest Collector there is, so the CPU measured is the shipper's.
func discard(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadResult is one round of logging at a fixed rate.
type loadResult struct {
	logged, shipped int64
	wall, cpu       time.Duration
	lagRecords      []int64
	lagSeconds      []float64
}

// runLoad logs rate records/s for d through the sidelog handler, with a
// shipper to url when url is set.
func runLoad(t *testing.T, url string, rate int, d time.Duration) loadResult {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := handler.New(db, &handler.Options{Logger: "saas", Fallback: io.Discard})
	log := slog.New(h)
	var sh *ship.Shipper
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	if url != "" {
		sh, err = ship.New(db, ship.Options{Endpoint: url, ServiceName: "saas", HostName: "load", Interval: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer sh.Close(ctx)
		go func() { done <- sh.Run(sctx) }()
	}
	var res loadResult
	cpu0, start := cpuTime(), time.Now()
	const tick = 10 * time.Millisecond
	perTick := rate / int(time.Second/tick)
	tk := time.NewTicker(tick)
	nextSample := start.Add(500 * time.Millisecond)
	for i := 0; time.Since(start) < d; {
		<-tk.C
		for range perTick {
			log.Info("GET /projects/{id} 200", sidelog.KeyKind, sidelog.KindRequest, sidelog.KeyMethod, "GET",
				sidelog.KeyPath, fmt.Sprintf("/projects/%d", i%5000), sidelog.KeyRoute, "GET /projects/{id}",
				sidelog.KeyStatus, 200, sidelog.KeyDuration, time.Duration(i%9000)*time.Microsecond,
				sidelog.KeyUserID, fmt.Sprint(i%997), sidelog.KeyRequestID, fmt.Sprintf("req-%d", i), "bytes", i%40000)
			i++
			res.logged++
		}
		if sh != nil && time.Now().After(nextSample) {
			st := sh.Stats()
			res.lagRecords = append(res.lagRecords, st.LagRecords)
			res.lagSeconds = append(res.lagSeconds, st.Lag.Seconds())
			nextSample = nextSample.Add(500 * time.Millisecond)
		}
	}
	tk.Stop()
	res.wall, res.cpu = time.Since(start), cpuTime()-cpu0
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if hs := h.Stats(); hs.Dropped != 0 || hs.Failed != 0 {
		t.Errorf("the handler lost records: %+v", hs)
	}
	if sh != nil {
		res.shipped = sh.Stats().Shipped
		stop()
		<-done
	}
	stop()
	return res
}

// TestLoad measures the shipper under a sustained load: the CPU it adds to
// the application (the same run with and without it), its lag, and the
// backfill throughput. It runs only with -ship.load; see BENCHMARKS.md.
func TestLoad(t *testing.T) {
	if *loadFor == 0 {
		t.Skip("run with -ship.load=20s")
	}
	srv := httptest.NewServer(http.HandlerFunc(discard))
	defer srv.Close()
	for round := 1; round <= *loadRounds; round++ {
		base := runLoad(t, "", *loadRate, *loadFor)
		with := runLoad(t, srv.URL, *loadRate, *loadFor)
		pct := func(r loadResult) float64 { return 100 * r.cpu.Seconds() / r.wall.Seconds() }
		p := func(v []int64, q float64) int64 {
			if len(v) == 0 {
				return 0
			}
			s := slices.Clone(v)
			slices.Sort(s)
			return s[int(q*float64(len(s)-1))]
		}
		ps := func(v []float64, q float64) float64 {
			if len(v) == 0 {
				return 0
			}
			s := slices.Clone(v)
			slices.Sort(s)
			return s[int(q*float64(len(s)-1))]
		}
		fmt.Printf("round %d: %d rec/s for %s: CPU without shipper %.0f%% of a core, with %.0f%% (+%.0f points, ×%.2f); shipped %d of %d (%.0f rec/s); lag records p50 %d max %d; lag seconds p50 %.2f max %.2f\n",
			round, *loadRate, *loadFor, pct(base), pct(with), pct(with)-pct(base), pct(with)/pct(base),
			with.shipped, with.logged, float64(with.shipped)/with.wall.Seconds(),
			p(with.lagRecords, 0.5), p(with.lagRecords, 1), ps(with.lagSeconds, 0.5), ps(with.lagSeconds, 1))
	}
	// Backfill: a database of 20 seconds' worth of records, shipped at once.
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 20 * *loadRate
	base := time.Now().UTC()
	for i := 0; i < n; i += 1000 {
		recs := make([]sidelog.Record, 1000)
		for j := range recs {
			k := i + j
			recs[j] = sidelog.Record{Time: base.Add(time.Duration(k) * time.Microsecond), Kind: sidelog.KindRequest, Logger: "saas",
				Message: "GET /projects/{id} 200", Method: "GET", Path: fmt.Sprintf("/projects/%d", k%5000), Route: "GET /projects/{id}",
				Status: 200, Duration: time.Duration(k%9000) * time.Microsecond, UserID: fmt.Sprint(k % 997), RequestID: fmt.Sprintf("req-%d", k)}
		}
		if err := db.WriteBatch(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	for _, proto := range []string{"gzip", "none"} {
		sh, err := ship.New(db, ship.Options{Endpoint: srv.URL, Name: "backfill-" + proto, Compression: proto})
		if err != nil {
			t.Fatal(err)
		}
		cpu0, start := cpuTime(), time.Now()
		got, err := sh.Drain(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		wall, cpu := time.Since(start), cpuTime()-cpu0
		fmt.Printf("backfill (%s): %d records in %s: %.0f rec/s, %.1f µs CPU per record\n", proto, got, wall.Round(time.Millisecond),
			float64(got)/wall.Seconds(), float64(cpu.Microseconds())/float64(got))
		sh.Close(ctx)
	}
}
