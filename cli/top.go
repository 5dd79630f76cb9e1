package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sidelog/sidelog/sqlite"
)

var topCommand = &command{
	name:    "top",
	summary: "request analytics: count, error rate and latency percentiles by route, path, user...",
	usage: `usage: sidelog top [--db PATH] [--by route|method|status|path|user|tenant]
                   [--since TIME] [--until TIME] [--limit N] [--json] [TERM...]

Groups the HTTP requests (records of kind request) in the time range that
match the query, and prints for each group, largest first: the number of
requests, the errors (status 500 and above) and their rate, and the 50th,
95th and 99th percentile and mean duration. Percentiles come from
log-scale histograms and are within 1% of the exact values.

By route, method or status without query terms, the answer comes from the
per-minute and per-hour rollups the writer keeps: 30 days in milliseconds.
By path, user or tenant, or with query terms, the matching rows are read.

Examples:
  sidelog top --by route --since 24h
  sidelog top --by user --since 7d --limit 10
  sidelog top --by path 'route:"GET /projects/{id}"' --since 1h
  sidelog top --by status --since 2026-11-01 --until 2026-11-08 --json
`,
	run: (*CLI).runTop,
}

func (c *CLI) runTop(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("top")
	by := fs.String("by", "route", "group by `FIELD`: route, method, status, path, user or tenant")
	limit := fs.Int("limit", 20, "print at most `N` groups")
	asJSON := fs.Bool("json", false, "print JSON (one object per group) instead of a table")
	since, until := addTimeFlags(fs)
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if !slices.Contains(sqlite.RequestGroups, *by) {
		return usageError("--by: cannot group by %q (want route, method, status, path, user or tenant)", *by)
	}
	if *limit < 1 {
		return usageError("--limit must be at least 1")
	}
	f, err := c.filter(pos, *since, *until)
	if err != nil {
		return err
	}
	db, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	start := time.Now()
	stats, err := db.Requests(ctx, f, *by)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if len(stats) > *limit {
		stats = stats[:*limit]
	}
	if *asJSON {
		enc := json.NewEncoder(c.Stdout)
		for _, s := range stats {
			if err := enc.Encode(topJSON{Key: s.Key, Count: s.Count, Errors: s.Errors, ErrorRate: s.ErrorRate,
				P50ms: ms(s.P50), P95ms: ms(s.P95), P99ms: ms(s.P99), Meanms: ms(s.Mean)}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(stats) == 0 {
		fmt.Fprintln(c.Stderr, "no requests matched")
		return nil
	}
	rows := [][]string{{strings.ToUpper(*by), "REQUESTS", "ERRORS", "ERROR %", "P50", "P95", "P99", "MEAN"}}
	for _, s := range stats {
		key := Sanitize(s.Key)
		if key == "" {
			key = "(none)"
		}
		rows = append(rows, []string{key, formatCount(s.Count), formatCount(s.Errors),
			strconv.FormatFloat(100*s.ErrorRate, 'f', 2, 64), fmtDur(s.P50), fmtDur(s.P95), fmtDur(s.P99), fmtDur(s.Mean)})
	}
	if err := writeTable(c.Stdout, rows); err != nil {
		return err
	}
	if c.IsTerminal(c.Stderr) {
		fmt.Fprintf(c.Stderr, "(%s)\n", elapsed.Round(time.Microsecond*100))
	}
	return nil
}

type topJSON struct {
	Key       string  `json:"key"`
	Count     int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	P50ms     float64 `json:"p50_ms"`
	P95ms     float64 `json:"p95_ms"`
	P99ms     float64 `json:"p99_ms"`
	Meanms    float64 `json:"mean_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// fmtDur writes a duration with three significant digits: 1.23ms, 45.6ms.
func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 0, 64) + "µs"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	case d < 100*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms"
	case d < 10*time.Second:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 0, 64) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
}

// writeTable prints rows in columns: the first left-aligned, the others
// (numbers) right-aligned.
func writeTable(w io.Writer, rows [][]string) error {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	bw := bufio.NewWriter(w)
	for _, r := range rows {
		for i, cell := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			switch {
			case i == 0:
				bw.WriteString(cell + pad)
			default:
				bw.WriteString("  " + pad + cell)
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
