package admin_test

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
)

// TestRequestsPage checks the request analytics page against counts made
// from the records written: every group's count and 5xx count, the link
// to its records, the groupings, the escaping of a hostile route and the
// errors.
func TestRequestsPage(t *testing.T) {
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(3, 4))
	routes := []string{"GET /projects/{id}", "POST /api/items", `GET /<script>alert(1)</script>`, ""}
	count, errs := map[string]int{}, map[string]int{}
	var recs []sidelog.Record
	for i := range 400 {
		rt := routes[rng.IntN(len(routes))]
		st := []int{200, 200, 201, 404, 500, 503}[rng.IntN(6)]
		r := sidelog.Record{Time: e.now.Add(-time.Duration(400-i) * 7 * time.Second), Level: slog.LevelInfo, Kind: sidelog.KindRequest,
			Message: "request", Method: strings.Fields(rt + " GET")[0], Path: "/p", Route: rt, Status: st,
			Duration: time.Duration(1+rng.IntN(300)) * time.Millisecond}
		recs = append(recs, r)
		count[rt]++
		if st >= 500 {
			errs[rt]++
		}
	}
	// Records outside the range and of another kind are left out.
	recs = append([]sidelog.Record{{Time: e.now.Add(-3 * time.Hour), Level: slog.LevelInfo, Kind: sidelog.KindRequest, Route: "GET /old", Status: 200}}, recs...)
	recs = append(recs, sidelog.Record{Time: e.now.Add(-time.Second), Level: slog.LevelInfo, Message: "app line", Route: "GET /app"})
	e.write(recs...)

	res := e.get("viewer", "/admin/requests?"+url.Values{"q": {"since:1h"}, "by": {"route"}}.Encode())
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	rowRE := regexp.MustCompile(`(?s)<tr class="rec">\s*<td class="m"><a href="([^"]*)">(.*?)</a></td><td class="n">([\d,]+)</td><td class="n">([\d,]+)</td>`)
	rows := rowRE.FindAllStringSubmatch(res.Body, -1)
	if len(rows) != len(count) {
		t.Fatalf("%d rows, want %d groups:\n%s", len(rows), len(count), res.Body)
	}
	for _, m := range rows {
		key := html.UnescapeString(m[2])
		if key == "(none)" {
			key = ""
		}
		n := strings.ReplaceAll(m[3], ",", "")
		if n != fmt.Sprint(count[key]) || m[4] != fmt.Sprint(errs[key]) {
			t.Errorf("route %q: %s requests, %s 5xx; want %d, %d", key, n, m[4], count[key], errs[key])
		}
		// The group links to its records, which the list then shows.
		link := html.UnescapeString(m[1])
		u, _ := url.Parse(link)
		f, err := sidelog.ParseQuery(u.Query().Get("q"), e.now)
		if err != nil {
			t.Errorf("route %q links to a bad query %q: %v", key, link, err)
			continue
		}
		got, err := e.db.Count(context.Background(), f)
		if err != nil || got != int64(count[key]) {
			t.Errorf("route %q: its link's query %q counts %d (%v), want %d", key, u.Query().Get("q"), got, err, count[key])
		}
	}
	if strings.Contains(res.Body, "<script>alert") {
		t.Error("a route from the logs is not escaped")
	}
	if !strings.Contains(res.Body, `<svg viewBox="0 0 1000`) || !strings.Contains(res.Body, `class="p99"`) {
		t.Error("no latency chart")
	}
	if !strings.Contains(res.Body, `href="/admin/requests"`) {
		t.Error("the nav does not link the page")
	}
	// By status class, from the rollups: the 5xx group is all errors.
	res = e.get("viewer", "/admin/requests?by=status&q=since:1h")
	var fives int
	for _, n := range errs {
		fives += n
	}
	if !regexp.MustCompile(`>5xx</a></td><td class="n">` + fmt.Sprint(fives) + `</td><td class="n">` + fmt.Sprint(fives) + `</td>\s*<td class="n high">100.0%`).MatchString(res.Body) {
		t.Errorf("no 5xx row with %d requests, all errors:\n%s", fives, res.Body)
	}
	// A filter beyond time: counted from the rows.
	res = e.get("viewer", "/admin/requests?by=method&"+url.Values{"q": {"since:1h status:5xx"}}.Encode())
	if !strings.Contains(res.Body, "Counted from the matching rows") || !strings.Contains(res.Body, fmt.Sprintf("%d requests over", fives)) {
		t.Errorf("5xx by method: %s", res.Body)
	}
	for q, want := range map[string]string{
		"by=colour":        "cannot group requests by",
		"q=level:loud":     "level",
		"q=kind:app":       "request analytics cover kind:request only",
		"q=" + "status:99": "status",
	} {
		res := e.get("viewer", "/admin/requests?"+q)
		if res.Status != 400 || !strings.Contains(res.Body, want) {
			t.Errorf("%s: status %d, want 400 with %q", q, res.Status, want)
		}
	}
}
