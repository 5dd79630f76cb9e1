// Command scale measures an existing sidelog database from outside, through
// the public API only: the time to open it, the first query after Open,
// the newest 50 records for each filter, text searches, charts up to 90
// days, and the process's resident memory and open files before and after
// (they must not grow with the days kept). Make the database first, e.g.
//
//	sidelog gen --db /big/logs.db --rows 50000000 --days 90d
//	cd bench/peers && go run ./scale -db /big/logs.db
//
// Each query runs once right after Open (cold in the process, though the
// files may be in the page cache) and then -runs times; the median and the
// slowest of those are reported. The filter values come from a record in
// the middle of the database, so that the questions have answers.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/bench/peers/internal/load"
	"github.com/sidelog/sidelog/sqlite"
)

func main() {
	path := flag.String("db", "", "the database to measure (required)")
	runs := flag.Int("runs", 20, "runs of each query after the first")
	flag.Parse()
	if *path == "" {
		fmt.Fprintln(os.Stderr, "scale: -db is required")
		os.Exit(2)
	}
	if err := run(context.Background(), *path, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Nanoseconds())/1e6) }

func run(ctx context.Context, path string, runs int) error {
	fmt.Printf("scale: %s; load %s; %s\n", path, load.Load(), time.Now().UTC().Format(time.RFC3339))
	rss0, fd0 := load.RSS(), load.OpenFiles()
	t := time.Now()
	db, err := sqlite.Open(ctx, path, sqlite.Options{MustExist: true})
	if err != nil {
		return err
	}
	defer db.Close()
	open := time.Since(t)
	t = time.Now()
	first, err := db.Query(ctx, sidelog.Filter{}, sidelog.Page{})
	if err != nil {
		return err
	}
	firstQ := time.Since(t)
	if len(first.Records) == 0 {
		return fmt.Errorf("the database is empty")
	}
	newest := first.Records[0].Time
	rssOpen, fdOpen := load.RSS(), load.OpenFiles()
	fmt.Printf("open %s ms; first query after open (newest 50, no filter) %s ms; RSS %d MiB → %d MiB, open files %d → %d\n",
		ms(open), ms(firstQ), rss0>>20, rssOpen>>20, fd0, fdOpen)

	// The oldest record, by asking for records before the newest minus a
	// long time, page by page of one.
	st, err := db.Stats(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("stats: %+v\n", st)

	// A request in the middle of the database gives the filter values.
	var oldest time.Time
	for r, err := range db.Scan(ctx, sidelog.Filter{}) {
		if err != nil {
			return err
		}
		oldest = r.Time
		break
	}
	mid := oldest.Add(newest.Sub(oldest) / 2)
	res, err := db.Query(ctx, sidelog.Filter{Until: mid, Kinds: []sidelog.Kind{sidelog.KindRequest}}, sidelog.Page{Limit: 1})
	if err != nil || len(res.Records) == 0 {
		return fmt.Errorf("no request before %s: %v", mid, err)
	}
	m := res.Records[0]
	// gen writes "unique event zq<i>x happened" once per 250,000 records.
	word := ""
	if res, err := db.Query(ctx, sidelog.Filter{Text: "unique event", Until: mid}, sidelog.Page{Limit: 1}); err == nil && len(res.Records) > 0 {
		if f := strings.Fields(res.Records[0].Message); len(f) > 2 {
			word = f[2]
		}
	}
	fmt.Printf("%s to %s (%.0f days); sample request %d at %s: user %s, tenant %s, request %s, path %s; rare word %q\n",
		oldest.UTC().Format(time.RFC3339), newest.UTC().Format(time.RFC3339), newest.Sub(oldest).Hours()/24,
		m.ID, m.Time.UTC().Format(time.RFC3339), m.UserID, m.TenantID, m.RequestID, m.Path, word)

	lvl := func(l slog.Level) *slog.Level { return &l }
	q := func(s string) sidelog.Filter {
		f, err := sidelog.ParseQuery(s, time.Now())
		if err != nil {
			panic(err)
		}
		return f
	}
	type tc struct {
		name string
		f    sidelog.Filter
	}
	cases := []tc{
		{"no filter", sidelog.Filter{}},
		{"level ≥ warn", sidelog.Filter{MinLevel: lvl(slog.LevelWarn)}},
		{"level ≥ error", sidelog.Filter{MinLevel: lvl(slog.LevelError)}},
		{"kind audit", sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindAudit}}},
		{"kind security", sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindSecurity}}},
		{"one request id", sidelog.Filter{RequestID: m.RequestID}},
		{"one user", sidelog.Filter{UserID: m.UserID}},
		{"one tenant", sidelog.Filter{TenantID: m.TenantID}},
		{"one user, level ≥ warn", sidelog.Filter{UserID: m.UserID, MinLevel: lvl(slog.LevelWarn)}},
		{"one path", sidelog.Filter{Path: m.Path}},
		{"path prefix /api/*", sidelog.Filter{Path: "/api/*"}},
		{"method DELETE", sidelog.Filter{Method: "DELETE"}},
		{"status ≥ 500", sidelog.Filter{MinStatus: 500}},
		{"client ip", sidelog.Filter{ClientIP: m.ClientIP}},
		{"logger audit", sidelog.Filter{Logger: "audit"}},
		{"one user, before the middle", sidelog.Filter{UserID: m.UserID, Until: mid}},
		{"attribute coupon:*  (rare key)", q("has:coupon")},
		{"route + status", q(`route:"DELETE /api/projects/{id}" status>=400`)},
		{"text: rare word", sidelog.Filter{Text: word}},
		{"text: common word (cache)", sidelog.Filter{Text: "cache"}},
		{"text: phrase \"connection reset\"", sidelog.Filter{Text: `"connection reset"`}},
		{"text: prefix zq1*", sidelog.Filter{Text: "zq1*"}},
		{"text: word in attributes (reset-password)", sidelog.Filter{Text: "reset-password"}},
		{"text: no such word", sidelog.Filter{Text: "nosuchwordzz"}},
	}
	fmt.Printf("\n| newest 50 of | first (ms) | median (ms) | slowest (ms) | records |\n|---|---|---|---|---|\n")
	for _, c := range cases {
		ds := make([]time.Duration, runs)
		var n int
		var firstD time.Duration
		for i := -1; i < runs; i++ {
			t := time.Now()
			res, err := db.Query(ctx, c.f, sidelog.Page{})
			d := time.Since(t)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if i < 0 {
				firstD, n = d, len(res.Records)
				continue
			}
			ds[i] = d
		}
		slices.Sort(ds)
		fmt.Printf("| %s | %s | %s | %s | %d |\n", c.name, ms(firstD), ms(ds[len(ds)/2]), ms(ds[len(ds)-1]), n)
	}

	charts := []struct {
		name string
		span time.Duration
		step time.Duration
	}{
		{"24 h by 10 min, unaligned", 24 * time.Hour, 10 * time.Minute},
		{"7 days by hour", 7 * sidelog.Day, time.Hour},
		{"30 days by day", 30 * sidelog.Day, sidelog.Day},
		{"90 days by day", 90 * sidelog.Day, sidelog.Day},
		{"90 days by day, level ≥ warn", 90 * sidelog.Day, sidelog.Day},
	}
	fmt.Printf("\n| chart (ending at the newest record) | first (ms) | median (ms) | slowest (ms) | records counted |\n|---|---|---|---|---|\n")
	for _, c := range charts {
		f := sidelog.Filter{Since: newest.Add(-c.span + 1234*time.Millisecond), Until: newest.Add(time.Second)}
		if strings.Contains(c.name, "warn") {
			f.MinLevel = lvl(slog.LevelWarn)
		}
		ds := make([]time.Duration, min(runs, 5))
		var total int64
		var firstD time.Duration
		for i := -1; i < len(ds); i++ {
			t := time.Now()
			bs, err := db.Histogram(ctx, f, c.step)
			d := time.Since(t)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if i < 0 {
				firstD = d
				for _, b := range bs {
					for _, n := range b.Counts {
						total += n
					}
				}
				continue
			}
			ds[i] = d
		}
		slices.Sort(ds)
		fmt.Printf("| %s | %s | %s | %s | %d |\n", c.name, ms(firstD), ms(ds[len(ds)/2]), ms(ds[len(ds)-1]), total)
	}
	fmt.Printf("\nafter every query: RSS %d MiB, open files %d; load %s\n", load.RSS()>>20, load.OpenFiles(), load.Load())
	return nil
}
