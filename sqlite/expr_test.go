package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
)

var (
	bfWords  = []string{"alpha", "beta", "gamma", "delta", "omega", "pay", "payment", "timeout"}
	bfRoutes = []string{"GET /a/{id}", "POST /a", "GET /b", "DELETE /a/{id}"}
	bfKeys   = []string{"k", "n", "flag", "tags", "order.total", "order.id", "user.email", "rare", "deep.a.b"}
)

// bfRecords returns n random records over three days with varied columns
// and attributes, drawn from small vocabularies so terms match often.
func bfRecords(rng *rand.Rand, n int) []sidelog.Record {
	start := time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC)
	recs := make([]sidelog.Record, n)
	for i := range recs {
		w := func() string { return bfWords[rng.IntN(len(bfWords))] }
		r := sidelog.Record{
			Time:    start.Add(time.Duration(rng.Int64N(int64(72 * time.Hour)))),
			Level:   []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelInfo, slog.LevelWarn, slog.LevelError}[rng.IntN(5)],
			Kind:    sidelog.Kind(rng.IntN(4)),
			Logger:  []string{"app", "http", "db.pool"}[rng.IntN(3)],
			Message: w() + " " + w(),
			UserID:  []string{"", "1", "2", "3"}[rng.IntN(4)],
		}
		if rng.IntN(5) == 0 {
			r.Error = w() + " failed"
		}
		if r.Kind == sidelog.KindRequest || rng.IntN(4) == 0 {
			rt := bfRoutes[rng.IntN(len(bfRoutes))]
			r.Route, r.Method = rt, strings.Fields(rt)[0]
			r.Path = strings.ReplaceAll(strings.Fields(rt)[1], "{id}", fmt.Sprint(rng.IntN(5)))
			r.Status = []int{200, 201, 404, 410, 500}[rng.IntN(5)]
			r.Duration = time.Duration(1+rng.IntN(20)) * time.Millisecond
		}
		attrs := map[string]any{}
		for _, k := range bfKeys {
			if rng.IntN(3) != 0 || (k == "rare" && rng.IntN(30) != 0) {
				continue
			}
			var v any
			switch k {
			case "k":
				v = []any{w(), 3, true, nil, "a b"}[rng.IntN(5)]
			case "n", "order.total":
				v = []any{rng.IntN(10), float64(rng.IntN(10)) + 0.5, "7"}[rng.IntN(3)]
			case "flag":
				v = rng.IntN(2) == 0
			case "tags":
				v = []any{w(), w()}
			case "user.email":
				v = fmt.Sprintf("%s@%s.example", w(), []string{"x", "y"}[rng.IntN(2)])
			default:
				v = w()
			}
			setPath(attrs, k, v)
		}
		if len(attrs) > 0 {
			b, _ := json.Marshal(attrs)
			r.Attrs = b
		}
		recs[i] = r
	}
	slices.SortStableFunc(recs, func(a, b sidelog.Record) int { return a.Time.Compare(b.Time) })
	return recs
}

func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = v
}

// bfTerm returns a random term of the query language.
func bfTerm(rng *rand.Rand) string {
	w := bfWords[rng.IntN(len(bfWords))]
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	switch rng.IntN(24) {
	case 0:
		return pick("level:warn", "level>=warn", "level<=info", "level>info", "level:debug,error")
	case 1:
		return pick("kind:request", "kind:audit,security", "kind:app")
	case 2:
		return pick("status:404", "status:4xx", "status>=410", "status:404,500", "status<300", "status>201")
	case 3:
		return pick("duration>5ms", "duration<=3ms", "duration>=10ms", "duration<1s")
	case 4:
		return pick("user:1", "user:2,3", "logger:http", "method:POST", "method:get,delete")
	case 5:
		return pick(`route:"GET /a/{id}"`, "path:/a/*", "path:/b", "route:POST*", "path:/a/1,/a/2")
	case 6:
		return pick("k:"+w, "k:3", "k:true", "k:null", `k:"a b"`, "k>gamma", "k<c")
	case 7:
		return pick("n:7", "n>4", "n<=2.5", "n:3.0", "order.total>=5", "order.total<1")
	case 8:
		return pick("flag:true", "flag:false", "has:flag", "has:order", "has:order.total", "has:deep.a", "has:deep.a.b")
	case 9:
		return pick("tags:"+w, "order.id:"+w, "deep.a.b:"+w, "rare:"+w, "has:rare")
	case 10:
		return pick("user.email:"+w+"@x.example", `"`+w+` x example"`, w+"@y.example")
	case 11:
		return pick(w, w[:2]+"*", `"`+w+` failed"`, "failed")
	case 12:
		return pick("has:error", "has:user", "has:route", "has:attrs", "has:duration")
	case 13:
		return "-" + bfTerm(rng)
	case 14:
		return "NOT " + bfTerm(rng)
	case 15, 16:
		return "(" + bfTerm(rng) + " OR " + bfTerm(rng) + ")"
	case 17:
		return "(" + bfTerm(rng) + " " + bfTerm(rng) + ")"
	case 18:
		return pick("since:2026-11-19T06:00:00Z", "until:2026-11-20T01:30:00Z", "since:2026-11-18T12:00:00Z")
	case 19:
		return pick("ip:10.0.0.1", "trace:x", "request:r1", "tenant:t")
	case 20:
		return pick("k!="+w, "status!=200", "user!=1", "level!=info")
	case 21:
		return pick("attrs.user.email:"+w+"@x.example", "user.email>m")
	}
	return w
}

// TestDB_QueryBruteForce checks random queries against sidelog.Filter.Match
// over the same records in Go: the same ids in the same order, page by
// page, and the same count.
func TestDB_QueryBruteForce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	db := MustOpen(t)
	recs := bfRecords(rng, scaled(2000))
	for i := 0; i < len(recs); {
		n := 1 + rng.IntN(500)
		MustWrite(t, db, recs[i:min(i+n, len(recs))])
		i += n
	}
	slices.SortFunc(recs, func(a, b sidelog.Record) int { return int(b.ID - a.ID) })
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	queries := 0
	for queries < scaled(120) {
		var terms []string
		for range 1 + rng.IntN(3) {
			terms = append(terms, bfTerm(rng))
		}
		if rng.IntN(4) == 0 {
			terms = []string{strings.Join(terms, " OR ")}
		}
		q := strings.Join(terms, " ")
		f, err := sidelog.ParseQuery(q, now)
		if err != nil {
			continue // a random repeat or empty range
		}
		queries++
		var want []int64
		for i := range recs {
			if f.Match(&recs[i]) {
				want = append(want, recs[i].ID)
			}
		}
		var got []int64
		page := sidelog.Page{Limit: 5 + rng.IntN(100)}
		for {
			res, err := db.Query(ctx, f, page)
			if err != nil {
				t.Fatalf("Query(%q): %v", q, err)
			}
			for _, r := range res.Records {
				got = append(got, r.ID)
			}
			if res.Next == (sidelog.Cursor{}) {
				break
			}
			page.After = res.Next
		}
		if !slices.Equal(got, want) {
			t.Fatalf("query %q (%s): store gives %d records, Match %d\nstore only: %v\nMatch only: %v",
				q, sidelog.FormatQuery(f), len(got), len(want), diff(got, want, recs), diff(want, got, recs))
		}
		n, err := db.Count(ctx, f)
		if err != nil || n != int64(len(want)) {
			t.Fatalf("Count(%q) = %d, %v; want %d", q, n, err, len(want))
		}
	}
}

// diff returns up to three records whose ids are in a but not b.
func diff(a, b []int64, recs []sidelog.Record) []string {
	var out []string
	for _, id := range a {
		if slices.Contains(b, id) || len(out) == 3 {
			continue
		}
		for _, r := range recs {
			if r.ID == id {
				out = append(out, fmt.Sprintf("{%d %v %s msg=%q err=%q user=%s route=%q path=%s status=%d dur=%v attrs=%s}",
					r.ID, r.Level, r.Kind, r.Message, r.Error, r.UserID, r.Route, r.Path, r.Status, r.Duration, r.Attrs))
			}
		}
	}
	return out
}
