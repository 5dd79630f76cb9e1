package sqlite_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// exactStats computes request analytics from the records themselves.
func exactStats(recs []sidelog.Record, f sidelog.Filter, by string) map[string]sqlite.RequestStats {
	durs := map[string][]time.Duration{}
	out := map[string]sqlite.RequestStats{}
	for i := range recs {
		r := &recs[i]
		if r.Kind != sidelog.KindRequest || !f.Match(r) {
			continue
		}
		var k string
		switch by {
		case "route":
			k = r.Route
		case "method":
			k = r.Method
		case "path":
			k = r.Path
		case "user":
			k = r.UserID
		case "status":
			if r.Status > 0 {
				k = strconv.Itoa(r.Status/100) + "xx"
			}
		}
		st := out[k]
		st.Key = k
		st.Count++
		if r.Status >= 500 {
			st.Errors++
		}
		out[k] = st
		if r.Duration > 0 {
			durs[k] = append(durs[k], r.Duration)
		}
	}
	for k, ds := range durs {
		slices.Sort(ds)
		st := out[k]
		rank := func(q float64) time.Duration { return ds[max(int(math.Ceil(q*float64(len(ds))))-1, 0)] }
		st.P50, st.P95, st.P99 = rank(0.5), rank(0.95), rank(0.99)
		out[k] = st
	}
	return out
}

// TestDB_Requests checks request analytics, from the rollups and from
// rows, against exact figures computed from the records: counts and errors
// equal, percentiles within 1%.
func TestDB_Requests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	db := MustOpen(t)
	recs := bfRecords(rng, scaled(3000))
	for i := 0; i < len(recs); i += 700 {
		MustWrite(t, db, recs[i:min(i+700, len(recs))])
	}
	start := time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC)
	for round := range 40 {
		var f sidelog.Filter
		if round > 0 {
			a := start.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
			b := start.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
			if a.After(b) {
				a, b = b, a
			}
			f.Since, f.Until = a, b.Add(time.Second)
		}
		if round%5 == 4 {
			f.UserID = "1" // not in the rollups: read from rows
		}
		by := sqlite.RequestGroups[rng.IntN(len(sqlite.RequestGroups))]
		if by == "tenant" {
			by = "user"
		}
		got, err := db.Requests(ctx, f, by)
		if err != nil {
			t.Fatal(err)
		}
		want := exactStats(recs, f, by)
		if len(got) != len(want) {
			t.Fatalf("round %d by %s %s: %d groups, want %d", round, by, sidelog.FormatQuery(f), len(got), len(want))
		}
		for _, g := range got {
			w := want[g.Key]
			if g.Count != w.Count || g.Errors != w.Errors {
				t.Fatalf("round %d by %s %s, %q: %d requests %d errors, want %d, %d", round, by, sidelog.FormatQuery(f), g.Key, g.Count, g.Errors, w.Count, w.Errors)
			}
			for i, p := range [][2]time.Duration{{g.P50, w.P50}, {g.P95, w.P95}, {g.P99, w.P99}} {
				if math.Abs(float64(p[0]-p[1])) > 0.01*float64(p[1]) {
					t.Errorf("round %d by %s %q: percentile %d is %v, exact %v", round, by, g.Key, i, p[0], p[1])
				}
			}
		}
	}
	if _, err := db.Requests(ctx, sidelog.Filter{}, "colour"); sidelog.ErrorCode(err) != sidelog.EINVALID {
		t.Errorf("grouping by colour: %v", err)
	}
	if _, err := db.Requests(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindAudit}}, "route"); sidelog.ErrorCode(err) != sidelog.EINVALID {
		t.Errorf("audit analytics: %v", err)
	}
}
