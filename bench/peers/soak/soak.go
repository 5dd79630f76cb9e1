// Command soak runs sidelog under a mixed load for a while, through the
// public API only: producers log realistic records (package gen, converted
// into slog calls with the typed Key* attributes) at a steady rate through
// the handler with default options, a reader lists the newest 50 records
// for a rotating set of filters at a steady rate, and retention cleanups
// remove old days from a database prefilled with them. At the end it
// counts the records stored since the start against those logged (lost),
// the handler's dropped and failed records, the queries' latency, and the
// resident memory over time.
//
//	cd bench/peers && go run ./soak -duration 10m -rate 20000 -qps 10
//
// A short run is a test (go test ./soak).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/bench/peers/internal/load"
	"github.com/sidelog/sidelog/gen"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sqlite"
)

// Config says how hard and how long to soak.
type Config struct {
	Dir       string        // the database's directory (made if missing)
	Duration  time.Duration // how long to log
	Rate      int           // records per second, all producers together
	Producers int           // goroutines logging
	QPS       int           // list queries per second
	// Prefill rows over PrefillDays days ending 8 days ago are written
	// first (unless the database already has them), for the cleanups to
	// remove: every CleanupEvery, a cleanup with a retention age shorter by
	// ShrinkDays than the last removes the oldest days. The records logged
	// during the soak are never old enough to be removed.
	Prefill      int
	PrefillDays  int
	CleanupEvery time.Duration
	ShrinkDays   int
	Out          io.Writer // progress lines; nil for none
}

// Report is what a soak found.
type Report struct {
	Logged, Stored               int64         // records logged during the soak, and found stored since its start
	Events                       int64         // the store\'s own security events since the start (not in Stored)
	Lost                         int64         // Logged - Stored
	Dropped, Failed              int64         // the handler's count of dropped records and of those sent to its fallback
	Behind                       time.Duration // the producers' largest lag behind their schedule
	Queries                      int
	QueryP50, QueryP99, QueryMax time.Duration
	QueryErrors                  int
	Cleanups                     []sqlite.CleanupReport
	CleanupErrors                int
	MaxBatch                     time.Duration // the writer's slowest batch
	RSS                          []int64       // resident memory, every RSSEvery
	RSSEvery                     time.Duration
	FDs                          []int // open files at the same times
	Elapsed                      time.Duration
}

func main() {
	var c Config
	flag.StringVar(&c.Dir, "dir", "", "the database's directory; reused when it exists (default: a temporary directory, removed at the end)")
	flag.DurationVar(&c.Duration, "duration", 10*time.Minute, "how long to log")
	flag.IntVar(&c.Rate, "rate", 20_000, "records per second")
	flag.IntVar(&c.Producers, "producers", 8, "goroutines logging")
	flag.IntVar(&c.QPS, "qps", 10, "list queries per second")
	flag.IntVar(&c.Prefill, "prefill", 1_000_000, "old records written first, for the cleanups")
	flag.IntVar(&c.PrefillDays, "prefill-days", 60, "days the old records span")
	flag.DurationVar(&c.CleanupEvery, "cleanup-every", time.Minute, "time between cleanups")
	flag.IntVar(&c.ShrinkDays, "shrink-days", 6, "days each cleanup removes")
	flag.Parse()
	c.Out = os.Stdout
	if c.Dir == "" {
		d, err := os.MkdirTemp("", "sidelog-soak-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(d)
		c.Dir = d
	}
	fmt.Printf("soak: %s, %d records/s by %d producers, %d queries/s, cleanup every %s; load %s; %s\n",
		c.Duration, c.Rate, c.Producers, c.QPS, c.CleanupEvery, load.Load(), time.Now().UTC().Format(time.RFC3339))
	r, err := Run(context.Background(), c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	Print(os.Stdout, r)
	if r.Lost != 0 || r.Dropped != 0 || r.Failed != 0 {
		os.Exit(1)
	}
}

// Print writes the report.
func Print(w io.Writer, r Report) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Nanoseconds())/1e6) }
	fmt.Fprintf(w, "\nlogged %d in %s (%.0f/s), stored %d (and %d of the store's own events), lost %d, dropped %d, failed %d; producers at most %s behind schedule\n",
		r.Logged, r.Elapsed.Round(time.Millisecond), float64(r.Logged)/r.Elapsed.Seconds(), r.Stored, r.Events, r.Lost, r.Dropped, r.Failed, r.Behind.Round(time.Millisecond))
	fmt.Fprintf(w, "queries: %d, p50 %s, p99 %s, max %s, errors %d\n", r.Queries, ms(r.QueryP50), ms(r.QueryP99), ms(r.QueryMax), r.QueryErrors)
	fmt.Fprintf(w, "writer's slowest batch: %s\n", ms(r.MaxBatch))
	for i, c := range r.Cleanups {
		fmt.Fprintf(w, "cleanup %d: removed %d records (%d files dropped, %d rewritten) in %s\n", i+1, c.Removed, c.SegmentsDropped, c.SegmentsRewritten, ms(c.Elapsed))
	}
	if r.CleanupErrors > 0 {
		fmt.Fprintf(w, "cleanup errors: %d\n", r.CleanupErrors)
	}
	fmt.Fprintf(w, "RSS (MiB) / open files every %s:", r.RSSEvery)
	for i := range r.RSS {
		fmt.Fprintf(w, " %d/%d", r.RSS[i]>>20, r.FDs[i])
	}
	fmt.Fprintln(w)
	if len(r.RSS) > 0 {
		first := int(time.Minute / r.RSSEvery)
		if first < len(r.RSS) {
			after := r.RSS[first:]
			fmt.Fprintf(w, "RSS after the first minute: %d to %d MiB (at one minute %d MiB)\n", slices.Min(after)>>20, slices.Max(after)>>20, r.RSS[first]>>20)
		}
	}
}

// Run soaks the database in c.Dir.
func Run(ctx context.Context, c Config) (Report, error) {
	var rep Report
	if c.Producers < 1 {
		c.Producers = 1
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return rep, err
	}
	path := filepath.Join(c.Dir, "logs.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return rep, err
	}
	defer db.Close()
	if err := prefill(ctx, db, c); err != nil {
		return rep, err
	}

	h := handler.New(db, &handler.Options{Level: slog.LevelDebug})
	l := slog.New(h)
	start := time.Now()
	// Records logged from here on have times after since.
	since := start.Add(-time.Millisecond)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup

	// Producers: each logs its share of the rate, in a burst every 10 ms.
	var logged atomic.Int64
	var behind atomic.Int64
	end := start.Add(c.Duration)
	for k := range c.Producers {
		wg.Go(func() {
			perTick := float64(c.Rate) / float64(c.Producers) / 100
			next, owed := start, 0.0
			for r := range gen.Records(gen.Options{Rows: 1 << 40, Seed: uint64(1000 + k), End: time.Now()}) {
				if owed < 1 {
					now := time.Now()
					if !now.Before(end) {
						return
					}
					if d := next.Sub(now); d > 0 {
						time.Sleep(d)
					} else if -d > time.Duration(behind.Load()) {
						behind.Store(int64(-d))
					}
					next = next.Add(10 * time.Millisecond)
					owed += perTick
				}
				rec := load.Convert(r)
				l.LogAttrs(ctx, rec.Level, rec.Msg, rec.Attrs...)
				logged.Add(1)
				owed--
			}
		})
	}

	// The reader: newest 50 for a rotating set of filters.
	var qmu sync.Mutex
	var qds []time.Duration
	var qerrs int
	stopAux := make(chan struct{})
	var aux sync.WaitGroup
	aux.Go(func() {
		lvl := func(l slog.Level) *slog.Level { return &l }
		filters := []sidelog.Filter{
			{},
			{MinLevel: lvl(slog.LevelError)},
			{UserID: "42"},
			{Path: "/api/*"},
			{MinStatus: 500},
			{Kinds: []sidelog.Kind{sidelog.KindSecurity}},
			{Text: "notification"},
			{TenantID: "7", MinLevel: lvl(slog.LevelWarn)},
			{Method: "DELETE", Since: start},
			{Text: "reset"},
		}
		tick := time.NewTicker(time.Second / time.Duration(max(c.QPS, 1)))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stopAux:
				return
			case <-tick.C:
			}
			t := time.Now()
			_, err := db.Query(ctx, filters[i%len(filters)], sidelog.Page{})
			d := time.Since(t)
			qmu.Lock()
			qds = append(qds, d)
			if err != nil {
				qerrs++
				fmt.Fprintln(c.Out, "query:", err)
			}
			qmu.Unlock()
		}
	})

	// Cleanups: each removes ShrinkDays more of the oldest days.
	var cleanups []sqlite.CleanupReport
	var cleanErrs int
	aux.Go(func() {
		age := time.Duration(8+c.PrefillDays) * sidelog.Day
		tick := time.NewTicker(c.CleanupEvery)
		defer tick.Stop()
		for {
			select {
			case <-stopAux:
				return
			case <-tick.C:
			}
			age = max(age-time.Duration(c.ShrinkDays)*sidelog.Day, 8*sidelog.Day)
			pol := sidelog.Retention{MaxAge: [4]time.Duration{age, age, age, age}, AuditAge: age}
			r, err := db.Cleanup(ctx, pol, time.Now(), false)
			if err != nil {
				cleanErrs++
				fmt.Fprintln(c.Out, "cleanup:", err)
				continue
			}
			cleanups = append(cleanups, r)
			fmt.Fprintf(c.Out, "cleanup: removed %d records in %s\n", r.Removed, r.Elapsed.Round(time.Millisecond))
		}
	})

	// Memory and progress.
	rep.RSSEvery = 10 * time.Second
	if c.Duration < time.Minute {
		rep.RSSEvery = time.Second
	}
	aux.Go(func() {
		tick := time.NewTicker(rep.RSSEvery)
		defer tick.Stop()
		for {
			select {
			case <-stopAux:
				return
			case <-tick.C:
			}
			rss, fds := load.RSS(), load.OpenFiles()
			rep.RSS = append(rep.RSS, rss)
			rep.FDs = append(rep.FDs, fds)
			st := h.Stats()
			qmu.Lock()
			nq := len(qds)
			qmu.Unlock()
			fmt.Fprintf(c.Out, "%5.0fs logged %d written %d dropped %d queue %d; queries %d; writer's slowest batch %s; RSS %d MiB, %d files; load %s\n",
				time.Since(start).Seconds(), logged.Load(), st.Written, st.Dropped, st.QueueDepth, nq, st.MaxBatchLatency.Round(time.Millisecond), rss>>20, fds, load.Load())
		}
	})

	wg.Wait()
	rep.Elapsed = time.Since(start)
	close(stopAux)
	aux.Wait()
	if err := h.Close(context.Background()); err != nil {
		return rep, err
	}
	st := h.Stats()
	rep.Logged = logged.Load()
	rep.Dropped, rep.Failed, rep.MaxBatch = st.Dropped, st.Failed, st.MaxBatchLatency
	rep.Behind = time.Duration(behind.Load())
	rep.Stored, err = db.Count(context.Background(), sidelog.Filter{Since: since})
	if err != nil {
		return rep, err
	}
	// The store's own security events (a cleanup's "started" and "done",
	// logger "sidelog") are not among the records logged.
	rep.Events, err = db.Count(context.Background(), sidelog.Filter{Since: since, Logger: "sidelog"})
	if err != nil {
		return rep, err
	}
	rep.Stored -= rep.Events
	rep.Lost = rep.Logged - rep.Stored
	rep.Cleanups, rep.CleanupErrors = cleanups, cleanErrs
	rep.Queries, rep.QueryErrors = len(qds), qerrs
	if len(qds) > 0 {
		slices.Sort(qds)
		rep.QueryP50, rep.QueryP99, rep.QueryMax = qds[len(qds)/2], qds[len(qds)*99/100], qds[len(qds)-1]
	}
	return rep, nil
}

// prefill writes c.Prefill generated records over the c.PrefillDays days
// that end 8 days ago, unless the database has records already.
func prefill(ctx context.Context, db *sqlite.DB, c Config) error {
	if c.Prefill <= 0 {
		return nil
	}
	n, err := db.Count(ctx, sidelog.Filter{})
	if err != nil || n > 0 {
		return err
	}
	t := time.Now()
	end := time.Now().Add(-8 * sidelog.Day)
	batch := make([]sidelog.Record, 0, 5000)
	flush := func() error {
		err := db.WriteBatch(ctx, batch)
		batch = batch[:0]
		return err
	}
	for r := range gen.Records(gen.Options{Rows: c.Prefill, End: end, Span: time.Duration(c.PrefillDays) * sidelog.Day, Seed: 99}) {
		if batch = append(batch, r); len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return errors.Join(fmt.Errorf("prefill"), err)
	}
	fmt.Fprintf(c.Out, "prefilled %d records over %d days in %s\n", c.Prefill, c.PrefillDays, time.Since(t).Round(time.Millisecond))
	return nil
}
