package admin

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/sidelog/sidelog"
)

// RequestAnalyzer answers request analytics: per route, method, status
// class, path, user or tenant, the count, error rate and duration
// percentiles of the requests matching a filter. *sqlite.DB implements it
// (from its per-minute and per-hour rollups where the filter allows); when
// Options.Store implements it, the UI has a Requests page.
type RequestAnalyzer interface {
	Requests(ctx context.Context, f sidelog.Filter, by string) ([]sidelog.RequestStats, error)
}

// requestGroupings are the groupings the Requests page offers, in order.
var requestGroupings = []struct{ By, Label, Term string }{
	{"route", "route", "route"}, {"method", "method", "method"}, {"status", "status class", "status"},
	{"path", "path", "path"}, {"user", "user", "user"}, {"tenant", "tenant", "tenant"},
}

// maxGroups bounds the groups the Requests page shows.
const maxGroups = 50

// requestsView is the Requests page.
type requestsView struct {
	By        string
	ByLabel   string
	Groupings []tabLink
	Ranges    []tabLink
	Range     string // what the time range is, in words
	Rows      []reqRow
	Shown     int
	Total     int // groups in all
	Count     int64
	Errors    int64
	ErrorRate string
	Chart     *latencyChart
	FromRows  bool // the filter is more than a time range: counted from the rows
}

// tabLink is a link that may be the current choice.
type tabLink struct {
	Label, URL string
	Active     bool
}

// reqRow is one group of the Requests table.
type reqRow struct {
	Key, URL           string
	Count, Errors      int64
	ErrorRate          string
	P50, P95, P99, Avg string
	High               bool // error rate of 5% or more
}

// latencyChart draws the groups' duration percentiles as horizontal bars.
type latencyChart struct {
	W, H     int
	Rows     []latencyRow
	Min, Max string // the scale's ends
	LabelW   int
}

// latencyRow is one group of the chart: three overlaid bars, p99 widest.
type latencyRow struct {
	Y, TextY               float64
	Label, Title           string
	W50, W95, W99, BarX, H float64
}

func (h *Handler) requests(w http.ResponseWriter, r *http.Request) {
	ra, _ := h.opts.Store.(RequestAnalyzer)
	p := h.newPage(r, "Requests")
	q, f, err := h.parse(r)
	p.Q = q
	by := r.URL.Query().Get("by")
	if by == "" {
		by = "route"
	}
	rv := &requestsView{By: by}
	p.Requests = rv
	known := false
	for _, g := range requestGroupings {
		v := url.Values{"by": {g.By}}
		if q != "" {
			v.Set("q", q)
		}
		rv.Groupings = append(rv.Groupings, tabLink{g.Label, h.opts.Prefix + "/requests?" + v.Encode(), g.By == by})
		if g.By == by {
			known, rv.ByLabel = true, g.Label
		}
	}
	for _, pr := range presets {
		v := url.Values{"by": {by}, "q": {replaceTerms(q, []string{"since", "until"}, pr.Term)}}
		rv.Ranges = append(rv.Ranges, tabLink{pr.Label, h.opts.Prefix + "/requests?" + v.Encode(), slices.Contains(splitTerms(q), pr.Term)})
	}
	switch {
	case err != nil:
		p.Error = errorText(err)
		h.render(w, r, "requests.html", http.StatusBadRequest, p)
		return
	case !known:
		p.Error = fmt.Sprintf("cannot group requests by %q: choose route, method, status, path, user or tenant", by)
		h.render(w, r, "requests.html", http.StatusBadRequest, p)
		return
	case ra == nil:
		p.Error = "This log store keeps no request analytics."
		h.render(w, r, "requests.html", http.StatusNotImplemented, p)
		return
	}
	now := h.opts.Now()
	if f.Since.IsZero() {
		f.Since = now.Add(-24 * time.Hour)
		if !f.Until.IsZero() {
			f.Since = f.Until.Add(-24 * time.Hour)
		}
		rv.Range = "the last 24 hours (the query sets no start)"
	} else {
		until := "now"
		if !f.Until.IsZero() {
			until = f.Until.UTC().Format("2006-01-02 15:04:05")
		}
		rv.Range = f.Since.UTC().Format("2006-01-02 15:04:05") + " – " + until + " UTC"
	}
	g := f
	g.Since, g.Until, g.Kinds = time.Time{}, time.Time{}, nil
	rv.FromRows = !isZeroFilter(g) || (by != "route" && by != "method" && by != "status")
	stats, err := ra.Requests(r.Context(), f, by)
	if err != nil {
		p.Error = errorText(err)
		h.render(w, r, "requests.html", statusOf(err), p)
		return
	}
	rv.Total = len(stats)
	for _, st := range stats {
		rv.Count += st.Count
		rv.Errors += st.Errors
	}
	if rv.Count > 0 {
		rv.ErrorRate = percent(float64(rv.Errors) / float64(rv.Count))
	}
	stats = stats[:min(len(stats), maxGroups)]
	rv.Shown = len(stats)
	term := by
	for _, gr := range requestGroupings {
		if gr.By == by {
			term = gr.Term
		}
	}
	for _, st := range stats {
		row := reqRow{
			Key: st.Key, Count: st.Count, Errors: st.Errors, ErrorRate: percent(st.ErrorRate),
			P50: formatDuration(st.P50), P95: formatDuration(st.P95), P99: formatDuration(st.P99), Avg: formatDuration(st.Mean),
			High: st.ErrorRate >= 0.05,
		}
		if st.Key != "" {
			row.URL = h.listURL(replaceTerms(q, []string{term, "kind"}, "kind:request", term+":"+quoteValue(st.Key)))
		} else {
			row.Key = "(none)"
			row.URL = h.listURL(replaceTerms(q, []string{term, "kind"}, "kind:request", "-has:"+term))
		}
		rv.Rows = append(rv.Rows, row)
	}
	rv.Chart = drawLatency(stats)
	h.readEvent(r, "requests", q, "by", by)
	h.render(w, r, "requests.html", http.StatusOK, p)
}

// isZeroFilter reports whether f has no condition at all.
func isZeroFilter(f sidelog.Filter) bool {
	return f.MinLevel == nil && f.MaxLevel == nil && len(f.Kinds) == 0 && f.Logger == "" && f.RequestID == "" &&
		f.TraceID == "" && f.UserID == "" && f.TenantID == "" && f.Method == "" && f.Path == "" && f.ClientIP == "" &&
		f.MinStatus == 0 && f.MaxStatus == 0 && f.Text == "" && f.Expr == nil && f.Since.IsZero() && f.Until.IsZero()
}

func percent(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) + "%" }

// Geometry of the latency chart, in SVG user units.
const (
	latRowH   = 20
	latLabelW = 260
	latW      = 1000
	maxLatRow = 20
)

// drawLatency draws the p50, p95 and p99 of the first groups (the
// largest) on one logarithmic scale, so that a slow outlier does not flatten
// the rest.
func drawLatency(stats []sidelog.RequestStats) *latencyChart {
	stats = stats[:min(len(stats), maxLatRow)]
	var peak time.Duration
	floor := time.Duration(math.MaxInt64)
	for _, st := range stats {
		peak = max(peak, st.P99)
		if st.P50 > 0 {
			floor = min(floor, st.P50)
		}
	}
	if len(stats) == 0 || peak <= 0 {
		return nil
	}
	lo := max(float64(floor)/2, float64(time.Microsecond))
	span := math.Log(float64(peak)/lo) * 1.02
	full := float64(latW - latLabelW - 10)
	width := func(d time.Duration) float64 {
		if float64(d) <= lo {
			return 1
		}
		return max(math.Log(float64(d)/lo)/span*full, 1)
	}
	c := &latencyChart{W: latW, H: len(stats)*latRowH + 4, Min: formatDuration(time.Duration(lo)), Max: formatDuration(peak), LabelW: latLabelW}
	for i, st := range stats {
		label := st.Key
		if label == "" {
			label = "(none)"
		}
		if len([]rune(label)) > 34 {
			label = string([]rune(label)[:33]) + "…"
		}
		y := float64(i*latRowH) + 2
		c.Rows = append(c.Rows, latencyRow{
			Y: y + 3, TextY: y + 14, H: latRowH - 6, BarX: latLabelW,
			Label: label,
			Title: fmt.Sprintf("%s: %d requests, p50 %s, p95 %s, p99 %s", st.Key, st.Count, formatDuration(st.P50), formatDuration(st.P95), formatDuration(st.P99)),
			W50:   width(st.P50), W95: width(st.P95), W99: width(st.P99),
		})
	}
	return c
}
