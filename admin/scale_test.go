//go:build scale

// The admin UI on a large database: every list page measured from the
// HTTP request to the last byte, beside the same query through the CLI's
// path. Kept out of the normal run by the build tag:
//
//	sidelog gen --db /tmp/admin-5m/logs.db --rows 5000000 --days 30d
//	SIDELOG_ADMIN_DB=/tmp/admin-5m/logs.db go test -tags scale -run TestScaleAdmin -v -timeout 60m ./admin/
//
// Results: BENCHMARKS.md, "Admin UI at 5M rows".
package admin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/admin"
	"github.com/sidelog/sidelog/cli"
	"github.com/sidelog/sidelog/sqlite"
)

type scaleCase struct {
	name, q  string
	kind     string // "list", "text", "chart24", "chart30"
	target   time.Duration
	p99Limit time.Duration
}

func TestScaleAdmin(t *testing.T) {
	path := os.Getenv("SIDELOG_ADMIN_DB")
	if path == "" {
		t.Skip("set SIDELOG_ADMIN_DB to a database made by sidelog gen")
	}
	runs, _ := strconv.Atoi(os.Getenv("SIDELOG_ADMIN_RUNS"))
	if runs <= 0 {
		runs = 40
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	opts := cli.AdminOptions(db)
	opts.Auth, opts.Logger, opts.Prefix = testAuth{}, slog.New(slog.DiscardHandler), "/admin"
	srv := httptest.NewServer(admin.New(opts))
	defer srv.Close()

	// Values that exist in the data.
	res, err := db.Query(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindRequest}}, sidelog.Page{Limit: 200})
	if err != nil || len(res.Records) == 0 {
		t.Fatalf("no request records: %v", err)
	}
	r0 := res.Records[len(res.Records)/2]
	var reqID, user, tenant, ip string
	for _, r := range res.Records {
		if reqID == "" && r.RequestID != "" {
			reqID = r.RequestID
		}
		if user == "" && r.UserID != "" {
			user = r.UserID
		}
		if tenant == "" && r.TenantID != "" {
			tenant = r.TenantID
		}
		if ip == "" && r.ClientIP != "" {
			ip = r.ClientIP
		}
	}
	ms := time.Millisecond
	cases := []scaleCase{
		{"no filter", "", "list", 20 * ms, 50 * ms},
		{"level>=error", "level>=error", "list", 20 * ms, 50 * ms},
		{"level:warn", "level:warn", "list", 20 * ms, 50 * ms},
		{"kind:audit", "kind:audit", "list", 20 * ms, 50 * ms},
		{"kind:security", "kind:security", "list", 20 * ms, 50 * ms},
		{"kind:request", "kind:request", "list", 20 * ms, 50 * ms},
		{"status:5xx", "status:5xx", "list", 20 * ms, 50 * ms},
		{"status:404", "status:404", "list", 20 * ms, 50 * ms},
		{"status>=400", "status>=400", "list", 20 * ms, 50 * ms},
		{"method:DELETE", "method:DELETE", "list", 20 * ms, 50 * ms},
		{"path exact", "path:" + r0.Path, "list", 20 * ms, 50 * ms},
		{"path prefix /api/*", "path:/api/*", "list", 20 * ms, 50 * ms},
		{"logger:audit", "logger:audit", "list", 20 * ms, 50 * ms},
		{"one user", "user:" + user, "list", 20 * ms, 50 * ms},
		{"one tenant", "tenant:" + tenant, "list", 20 * ms, 50 * ms},
		{"one request", "request:" + reqID, "list", 20 * ms, 50 * ms},
		{"one client IP", "ip:" + ip, "list", 20 * ms, 50 * ms},
		{"since:1h", "since:1h", "list", 20 * ms, 50 * ms},
		{"text, common word", "cache", "text", 30 * ms, 0},
		{"text, rare word", "zq4321x", "text", 30 * ms, 0},
		{"text, phrase", `"payment failed"`, "text", 30 * ms, 0},
		{"24-hour chart", "since:24h", "chart24", 50 * ms, 0},
		{"30-day chart", "since:30d", "chart30", 100 * ms, 0},
	}
	client := &http.Client{}
	get := func(u string) (time.Duration, int64, int) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("X-User", "viewer")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start), n, resp.StatusCode
	}
	load1 := func() string {
		b, _ := os.ReadFile("/proc/loadavg")
		return strings.Fields(string(b) + " ?")[0]
	}
	t.Logf("database %s, %d runs per case, load %s", path, runs, load1())
	t.Logf("| page | query | HTTP median | HTTP p99 | bytes | chart part median | store Query median | CLI query median | target |")
	t.Logf("|---|---|---|---|---|---|---|---|---|")
	for _, c := range cases {
		u := srv.URL + "/admin/"
		if c.q != "" {
			u += "?" + url.Values{"q": {c.q}}.Encode()
		}
		for range 3 {
			get(u)
		}
		var hs []time.Duration
		var bytes int64
		for range runs {
			d, n, st := get(u)
			if st != 200 {
				t.Fatalf("%s: status %d", c.name, st)
			}
			hs = append(hs, d)
			bytes = n
		}
		// The chart alone, as the page's script fetches it when the list
		// went out without it (a chart counted row by row).
		var chs []time.Duration
		for range max(runs/2, 3) {
			d, _, st := get(srv.URL + "/admin/chart?" + url.Values{"q": {c.q}}.Encode())
			if st != 200 {
				t.Fatalf("%s: chart status %d", c.name, st)
			}
			chs = append(chs, d)
		}
		// The store's part: parse and one page, as `sidelog query` does.
		var qs []time.Duration
		for range runs {
			start := time.Now()
			f, err := sidelog.ParseQuery(c.q, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if c.kind == "chart24" || c.kind == "chart30" {
				// the list's chart: a histogram over the range
				step := 30 * time.Minute
				if c.kind == "chart30" {
					step = 24 * time.Hour
				}
				f.Until = time.Now()
				if _, err := db.Histogram(ctx, sidelog.Filter{Since: f.Since.Truncate(step), Until: f.Until.Truncate(step).Add(step)}, step); err != nil {
					t.Fatal(err)
				}
			} else if _, err := db.Query(ctx, f, sidelog.Page{Limit: 50}); err != nil {
				t.Fatal(err)
			}
			qs = append(qs, time.Since(start))
		}
		// The whole CLI: open the database, query, print 50 lines.
		var cs []time.Duration
		for range max(runs/8, 3) {
			args := []string{"query", "--db", path, "--limit", "50"}
			if c.q != "" {
				args = append(args, c.q)
			}
			start := time.Now()
			if err := (&cli.CLI{Stdout: io.Discard, Stderr: io.Discard}).Run(ctx, args); err != nil {
				t.Fatal(err)
			}
			cs = append(cs, time.Since(start))
		}
		t.Logf("| %s | `%s` | %s | %s | %d | %s | %s | %s | %s |", c.name, c.q, fmtD(pct(hs, 50)), fmtD(pct(hs, 99)), bytes,
			fmtD(pct(chs, 50)), fmtD(pct(qs, 50)), fmtD(pct(cs, 50)), verdict(c, pct(hs, 50), pct(hs, 99)))
	}
	// The request analytics page, beside the store's Requests and the
	// CLI's top over the same range.
	for _, q := range []string{"since:24h", "since:30d"} {
		u := srv.URL + "/admin/requests?" + url.Values{"q": {q}, "by": {"route"}}.Encode()
		var hs, qs, cs []time.Duration
		var bytes int64
		for range runs / 2 {
			d, n, st := get(u)
			if st != 200 {
				t.Fatalf("requests %s: status %d", q, st)
			}
			hs, bytes = append(hs, d), n
			start := time.Now()
			f, _ := sidelog.ParseQuery(q, time.Now())
			if _, err := db.Requests(ctx, f, "route"); err != nil {
				t.Fatal(err)
			}
			qs = append(qs, time.Since(start))
		}
		for range 3 {
			start := time.Now()
			if err := (&cli.CLI{Stdout: io.Discard, Stderr: io.Discard}).Run(ctx, []string{"top", "--db", path, "--by", "route", "--since", strings.TrimPrefix(q, "since:")}); err != nil {
				t.Fatal(err)
			}
			cs = append(cs, time.Since(start))
		}
		t.Logf("| requests by route | `%s` | %s | %s | %d | – | %s (Requests) | %s (top) | – |", q, fmtD(pct(hs, 50)), fmtD(pct(hs, 99)), bytes,
			fmtD(pct(qs, 50)), fmtD(pct(cs, 50)))
	}
	t.Logf("load after: %s", load1())
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func fmtD(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func verdict(c scaleCase, med, p99 time.Duration) string {
	ok := med <= c.target && (c.p99Limit == 0 || p99 <= c.p99Limit)
	lim := "≤ " + fmtD(c.target)
	if c.p99Limit > 0 {
		lim += ", p99 ≤ " + fmtD(c.p99Limit)
	}
	if ok {
		return lim + ": met"
	}
	return lim + ": **missed**"
}
