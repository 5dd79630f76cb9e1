package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/sidelog/sidelog"
)

// RequestStats summarizes the requests of one group (see Requests).
type RequestStats = sidelog.RequestStats

// RequestGroups are the groupings Requests accepts.
var RequestGroups = []string{"route", "method", "status", "path", "user", "tenant"}

// rollupGroups are the groupings the request rollups can answer.
var rollupGroups = map[string]string{"route": "route", "method": "method", "status": "status"}

// Requests returns request analytics (records of kind request) matching f,
// grouped by one of RequestGroups, the largest groups first. By route,
// method or status with a filter of time bounds only (kind:request
// allowed), they come from the per-minute and per-hour rollups the writer
// keeps — a few rows per hour of the range, plus the rows of the partial
// minutes at its edges — so 30 days cost milliseconds. Other groupings and
// filters read the matching rows' duration and status.
func (db *DB) Requests(ctx context.Context, f sidelog.Filter, by string) ([]RequestStats, error) {
	if !slices.Contains(RequestGroups, by) {
		return nil, sidelog.Errorf(sidelog.EINVALID, "cannot group requests by %q (want one of route, method, status, path, user, tenant)", by)
	}
	if err := validate(f); err != nil {
		return nil, err
	}
	if len(f.Kinds) == 0 {
		f.Kinds = []sidelog.Kind{sidelog.KindRequest}
	}
	if len(f.Kinds) != 1 || f.Kinds[0] != sidelog.KindRequest {
		return nil, sidelog.Errorf(sidelog.EINVALID, "request analytics cover kind:request only")
	}
	g := f
	g.Since, g.Until, g.Kinds = time.Time{}, time.Time{}, nil
	fromRollup := rollupGroups[by] != "" && reflect.ValueOf(g).IsZero()
	groups := map[string]*reqGroup{}
	for _, s := range db.segmentsFor(f) {
		err := s.withReader(func(r queryer) error {
			if fromRollup {
				return requestsFromRollup(ctx, r, s.day, f, by, groups)
			}
			return requestsFromRows(ctx, s, r, f, by, groups)
		})
		if err != nil {
			return nil, classify(fmt.Errorf("requests %s: %w", s.name(), err))
		}
	}
	out := make([]RequestStats, 0, len(groups))
	for k, g := range groups {
		st := RequestStats{Key: k, Count: g.n, Errors: g.errors}
		if g.n > 0 {
			st.ErrorRate = float64(g.errors) / float64(g.n)
			st.Mean = time.Duration(g.durSum / g.n)
		}
		q := g.hist.quantiles(0.5, 0.95, 0.99)
		st.P50, st.P95, st.P99 = q[0], q[1], q[2]
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b RequestStats) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	return out, nil
}

type reqGroup struct {
	n, errors, durSum int64
	hist              denseHist
}

// group returns the group of key, adding it if needed.
func group(groups map[string]*reqGroup, key string) *reqGroup {
	g := groups[key]
	if g == nil {
		g = &reqGroup{hist: make(denseHist, maxBucket+1)}
		groups[key] = g
	}
	return g
}

// statusKey is the group of a status: its class (5xx), or "" for none.
func statusKey(status int) string {
	if status <= 0 {
		return ""
	}
	return strconv.Itoa(status/100) + "xx"
}

// requestsFromRollup adds the day's requests in f's time range from the
// rollups: whole hours from reqs_hour, whole minutes from reqs_minute, and
// the partial minutes at the edges from the rows.
func requestsFromRollup(ctx context.Context, r queryer, day int64, f sidelog.Filter, by string, groups map[string]*reqGroup) error {
	const minute, hour = int64(time.Minute), int64(time.Hour)
	lo, hi := day*dayNanos, (day+1)*dayNanos
	if !f.Since.IsZero() {
		lo = max(lo, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		hi = min(hi, f.Until.UnixNano())
	}
	if lo >= hi {
		return nil
	}
	a, b := ceilDiv(lo, minute)*minute, floorDiv(hi, minute)*minute
	if a >= b {
		return requestsFromRawRange(ctx, r, lo, hi, by, groups)
	}
	if err := requestsFromRawRange(ctx, r, lo, a, by, groups); err != nil {
		return err
	}
	if err := requestsFromRawRange(ctx, r, b, hi, by, groups); err != nil {
		return err
	}
	h1, h2 := ceilDiv(a, hour)*hour, floorDiv(b, hour)*hour
	if h1 >= h2 {
		return requestsFromTable(ctx, r, "reqs_minute", "minute", a/minute, b/minute, by, groups)
	}
	for _, span := range [][2]int64{{a, h1}, {h2, b}} {
		if err := requestsFromTable(ctx, r, "reqs_minute", "minute", span[0]/minute, span[1]/minute, by, groups); err != nil {
			return err
		}
	}
	return requestsFromTable(ctx, r, "reqs_hour", "hour", h1/hour, h2/hour, by, groups)
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// requestsFromTable adds the rollup rows with at in [lo, hi). The group's
// dictionary id is resolved once per id, and each row's histogram is
// added straight into its group's.
func requestsFromTable(ctx context.Context, r queryer, table, at string, lo, hi int64, by string, groups map[string]*reqGroup) error {
	if lo >= hi {
		return nil
	}
	key := "0"
	if by != "status" {
		key = by
	}
	rows, err := r.QueryContext(ctx, `SELECT `+key+`, status, n, dur_sum, hist FROM `+table+` WHERE `+at+` >= ? AND `+at+` < ?`, lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	names := map[int64]string{0: ""}
	var unknown []int64
	type part struct {
		id     int64
		status int
		n, sum int64
		blob   []byte
	}
	var parts []part
	for rows.Next() {
		var p part
		if err := rows.Scan(&p.id, &p.status, &p.n, &p.sum, &p.blob); err != nil {
			return err
		}
		if _, ok := names[p.id]; !ok && by != "status" {
			names[p.id] = ""
			unknown = append(unknown, p.id)
		}
		parts = append(parts, p)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	for _, id := range unknown {
		var s sql.NullString
		if err := r.QueryRowContext(ctx, `SELECT s FROM dict WHERE id = ?`, id).Scan(&s); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		names[id] = s.String
	}
	for _, p := range parts {
		k := names[p.id]
		if by == "status" {
			k = statusKey(p.status)
		}
		g := group(groups, k)
		g.n += p.n
		g.durSum += p.sum
		if p.status >= 500 {
			g.errors += p.n
		}
		if err := g.hist.decode(p.blob); err != nil {
			return err
		}
	}
	return nil
}

// groupColumn is the SQL of a grouping's value on logs l.
var groupColumn = map[string]string{
	"route":  "coalesce((SELECT s FROM dict WHERE id = l.route), '')",
	"method": "coalesce((SELECT s FROM dict WHERE id = l.method), '')",
	"path":   "coalesce((SELECT s FROM dict WHERE id = l.path), '')",
	"status": "''",
	"user":   "coalesce(l.user_id, '')",
	"tenant": "coalesce(l.tenant_id, '')",
}

// requestsFromRawRange adds the request rows with ts in [lo, hi).
func requestsFromRawRange(ctx context.Context, r queryer, lo, hi int64, by string, groups map[string]*reqGroup) error {
	if lo >= hi {
		return nil
	}
	w := &where{}
	// Unary + keeps SQLite off the kind index (most rows are requests):
	// the time range is the narrow condition.
	w.add("+l.kind = ?", int64(sidelog.KindRequest))
	w.add("l.ts >= ? AND l.ts < ?", lo, hi)
	return addRequestRows(ctx, r, w, by, groups)
}

// requestsFromRows adds the segment's request rows matching f.
func requestsFromRows(ctx context.Context, s *segment, r queryer, f sidelog.Filter, by string, groups map[string]*reqGroup) error {
	p, err := planFor(ctx, s, r, f)
	if err != nil || p.skip {
		return err
	}
	w := conditions(f, p)
	addTimeBounds(w, f)
	return addRequestRows(ctx, r, w, by, groups)
}

func addRequestRows(ctx context.Context, r queryer, w *where, by string, groups map[string]*reqGroup) error {
	rows, err := r.QueryContext(ctx, `SELECT `+groupColumn[by]+`, coalesce(l.status, 0), coalesce(l.duration, 0) FROM logs l`+w.String(), w.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var status int
		var dur int64
		if err := rows.Scan(&key, &status, &dur); err != nil {
			return err
		}
		if by == "status" {
			key = statusKey(status)
		}
		g := group(groups, key)
		g.n++
		g.durSum += dur
		if status >= 500 {
			g.errors++
		}
		g.hist.add(time.Duration(dur), 1)
	}
	return rows.Err()
}
