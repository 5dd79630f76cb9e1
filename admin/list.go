package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
)

// Page sizes of the list.
const (
	defaultRows = 50
	maxRows     = 200
)

// page is the data of every template; a handler fills the fields its page
// uses. html/template escapes every value by its context.
type page struct {
	Title       string
	Prefix      string
	User        *User
	CSRF        string
	Q           string
	Error       string
	Flash       string
	CanDelete   bool
	CanSettings bool
	Views       []viewItem
	ViewsOK     bool
	Presets     []preset

	// list
	Rows      []row
	Hints     []link // attribute terms no record has, with the query as probably meant
	Chart     *chart
	ChartNote *link  // why the chart is missing, and how to draw it anyway
	ChartURL  string // the chart, fetched by the page after the list (/chart)
	Older     string
	Newest    string
	Newer     bool
	TailURL   string
	Exports   []link
	DeleteURL string
	Limit     int

	// detail
	Rec     *row
	Fields  []field
	Attrs   *node
	Related []link
	RawJSON string
	BackURL string

	// delete
	Count int64

	// stats
	Stats *statsView

	// history
	History *historyView
	// help: example terms that link to their lists (and, on the list,
	// add themselves to the query box)
	HelpExamples []helpExample
	ErrorTerm    string // the term a query error names, selected in the box

	// requests
	Requests    *requestsView
	HasRequests bool // the store answers request analytics: the nav links the page
}

// link is a labelled URL.
type link struct{ Label, URL string }

// preset is a time preset of the quick filters.
type preset struct{ Label, Term string }

var presets = []preset{{"15 min", "since:15m"}, {"1 hour", "since:1h"}, {"24 hours", "since:24h"}, {"7 days", "since:7d"}, {"30 days", "since:30d"}}

// row is one record as the list shows it.
type row struct {
	ID       int64
	URL      string
	Time     string
	TimeISO  string
	Level    string
	LevelCSS string
	Kind     string
	Message  string
	Error    string
	Chips    []chip
}

// chip is a small labelled value under a message.
type chip struct{ Key, Value, URL string }

func levelName(l slog.Level) string { return l.String() }

var levelCSS = [4]string{"debug", "info", "warn", "error"}

// toRow turns a record into a list row with the columns of its kind.
func (h *Handler) toRow(r sidelog.Record, q string) row {
	rw := row{
		ID:       r.ID,
		URL:      h.recordURL(r.ID, q),
		Time:     r.Time.UTC().Format("2006-01-02 15:04:05.000"),
		TimeISO:  r.Time.UTC().Format(time.RFC3339Nano),
		Level:    levelName(r.Level),
		LevelCSS: levelCSS[sidelog.LevelClass(r.Level)],
		Kind:     r.Kind.String(),
		Message:  r.Message,
		Error:    r.Error,
	}
	add := func(k, v, term string) {
		if v == "" {
			return
		}
		c := chip{Key: k, Value: v}
		if term != "" {
			c.URL = h.listURL(replaceTerms(q, []string{termKey(term)}, term))
		}
		rw.Chips = append(rw.Chips, c)
	}
	switch r.Kind {
	case sidelog.KindRequest:
		add("method", r.Method, "method:"+quoteValue(r.Method))
		add("path", r.Path, "path:"+quoteValue(r.Path))
		if r.Status != 0 {
			add("status", strconv.Itoa(r.Status), "status:"+strconv.Itoa(r.Status))
		}
		if r.Duration != 0 {
			add("duration", formatDuration(r.Duration), "")
		}
	case sidelog.KindAudit:
		var a map[string]any
		if json.Unmarshal(r.Attrs, &a) == nil {
			for _, k := range []string{"entity", "entity_id", "action"} {
				if v, ok := a[k]; ok {
					add(k, fmt.Sprint(v), "")
				}
			}
		}
	}
	if r.Logger != "" && r.Kind != sidelog.KindRequest {
		add("logger", r.Logger, "logger:"+quoteValue(r.Logger))
	}
	add("user", r.UserID, "user:"+quoteValue(r.UserID))
	add("request", shortID(r.RequestID), "request:"+quoteValue(r.RequestID))
	return rw
}

func shortID(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(time.Millisecond).String()
}

// listURL is the list for query q.
func (h *Handler) listURL(q string) string {
	if q == "" {
		return h.opts.Prefix + "/"
	}
	return h.opts.Prefix + "/?" + url.Values{"q": {q}}.Encode()
}

func (h *Handler) recordURL(id int64, q string) string {
	u := h.opts.Prefix + "/records/" + strconv.FormatInt(id, 10)
	if q != "" {
		u += "?" + url.Values{"q": {q}}.Encode()
	}
	return u
}

// quickFilters merges the quick filters of a list form into the query
// text: they only write terms into the box. It returns "", false when the
// request holds none.
func quickFilters(r *http.Request) (string, bool) {
	v := r.URL.Query()
	q := v.Get("q")
	used := false
	set := func(param string, keys []string, term func(string) string) {
		if !v.Has(param) {
			return
		}
		used = true
		val := strings.TrimSpace(v.Get(param))
		if val == "" {
			return
		}
		q = replaceTerms(q, keys, term(val))
	}
	set("level", []string{"level"}, func(s string) string { return "level>=" + s })
	set("kind", []string{"kind"}, func(s string) string { return "kind:" + s })
	set("status", []string{"status"}, func(s string) string { return "status:" + s })
	set("range", []string{"since", "until"}, func(s string) string { return s })
	for _, p := range []struct{ param, key string }{{"from", "since"}, {"to", "until"}} {
		if !v.Has(p.param) {
			continue
		}
		used = true
		if s := strings.TrimSpace(v.Get(p.param)); s != "" {
			if t, err := parseLocalTime(s); err == nil {
				q = replaceTerms(q, []string{p.key}, p.key+":"+t.Format(time.RFC3339))
			} else {
				q = replaceTerms(q, []string{p.key}, p.key+":"+quoteValue(s))
			}
		}
	}
	return strings.TrimSpace(q), used
}

// parseLocalTime reads the value of an <input type=datetime-local>, taken
// as UTC (the UI shows UTC times).
func parseLocalTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

// parse reads the request's query text into a filter.
func (h *Handler) parse(r *http.Request) (string, sidelog.Filter, error) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if r.Method == http.MethodPost {
		q = strings.TrimSpace(r.PostFormValue("q"))
	}
	f, err := sidelog.ParseQuery(q, h.opts.Now())
	return q, f, err
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	if q, ok := quickFilters(r); ok {
		http.Redirect(w, r, h.listURL(q), http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	q, f, err := h.parse(r)
	p := h.newPage(r, "Logs")
	p.Q = q
	p.Limit = defaultRows
	if n, err := strconv.Atoi(r.URL.Query().Get("n")); err == nil && n > 0 {
		p.Limit = min(n, maxRows)
	}
	p.HelpExamples = h.helpExamples()
	if err != nil {
		p.Error = errorText(err)
		p.ErrorTerm = errorTerm(p.Error)
		h.render(w, r, "list.html", http.StatusBadRequest, p)
		return
	}
	var before int64
	if s := r.URL.Query().Get("before"); s != "" {
		before, _ = strconv.ParseInt(s, 10, 64)
	}
	// The chart is counted beside the list; the list does not wait for it
	// past chartInline (see inlineChart).
	chart := h.startChart(r, q, f)
	defer chart.cancel()
	res, err := h.opts.Store.Query(ctx, f, sidelog.Page{Limit: p.Limit, After: sidelog.Cursor{ID: before}})
	if err != nil {
		p.Error = errorText(err)
		h.render(w, r, "list.html", statusOf(err), p)
		return
	}
	for _, rec := range res.Records {
		p.Rows = append(p.Rows, h.toRow(rec, q))
	}
	if res.Next.ID != 0 {
		p.Older = h.pageURL(q, res.Next.ID, p.Limit)
	}
	if before != 0 {
		p.Newest = h.listURL(q)
		if len(res.Records) > 0 {
			top, err := h.opts.Store.Query(ctx, f, sidelog.Page{Limit: 1})
			p.Newer = err == nil && len(top.Records) > 0 && top.Records[0].ID > res.Records[0].ID
		}
	}
	if res.Next.ID == 0 {
		p.Hints = h.missingAttrs(r, q, f)
	}
	p.Chart, p.ChartNote, p.ChartURL = h.inlineChart(r, q, f, chart)
	p.TailURL = h.opts.Prefix + "/tail?" + url.Values{"q": {q}}.Encode()
	if len(res.Records) > 0 {
		p.TailURL += "&after=" + strconv.FormatInt(res.Records[0].ID, 10)
	}
	for _, fm := range []string{"jsonl", "csv", "parquet"} {
		p.Exports = append(p.Exports, link{fm, h.opts.Prefix + "/export?" + url.Values{"q": {q}, "format": {fm}}.Encode()})
	}
	if p.CanDelete && q != "" {
		p.DeleteURL = h.opts.Prefix + "/delete?" + url.Values{"q": {q}}.Encode()
	}
	h.readEvent(r, "list", q)
	h.render(w, r, "list.html", http.StatusOK, p)
}

func (h *Handler) pageURL(q string, before int64, limit int) string {
	v := url.Values{"before": {strconv.FormatInt(before, 10)}}
	if q != "" {
		v.Set("q", q)
	}
	if limit != defaultRows {
		v.Set("n", strconv.Itoa(limit))
	}
	return h.opts.Prefix + "/?" + v.Encode()
}

// errorText is the message of err for a person.
func errorText(err error) string {
	if m := sidelog.ErrorMessage(err); m != "" {
		return m
	}
	return err.Error()
}

// statusOf maps a store error to an HTTP status.
func statusOf(err error) int {
	switch sidelog.ErrorCode(err) {
	case sidelog.EINVALID:
		return http.StatusBadRequest
	case sidelog.ENOTFOUND:
		return http.StatusNotFound
	case sidelog.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// chartInline is how long after the list the page waits for its chart:
// a chart the rollups answer is ready by then; one counted row by row is
// left to /chart, which the page's script fetches after the list is shown
// (without script, a link draws the page with the chart: chart=full).
const chartInline = 25 * time.Millisecond

// chartBudget bounds the chart endpoint: past it, the chart is not drawn
// and the page says how to narrow the range.
const chartBudget = 5 * time.Second

// chartJob is a chart being counted beside the list.
type chartJob struct {
	done   chan struct{}
	c      *chart
	err    error
	cancel context.CancelFunc
	full   bool
	later  bool // not started: counted row by row, it follows the list
}

// RollupCharts tells whether the store draws a chart from its rollups
// (cheap for any range) or by counting rows. *sqlite.DB implements it; the
// list then leaves a row-counted chart to /chart at once instead of
// waiting chartInline for it.
type RollupCharts interface {
	HistogramFromRollup(f sidelog.Filter, step time.Duration) bool
}

// startChart starts counting the chart of f for the list page.
func (h *Handler) startChart(r *http.Request, q string, f sidelog.Filter) *chartJob {
	full := r.URL.Query().Get("chart") == "full"
	ctx, cancel := context.WithTimeout(r.Context(), chartBudget)
	j := &chartJob{done: make(chan struct{}), cancel: cancel, full: full}
	if rc, ok := h.opts.Store.(RollupCharts); ok && !full {
		since, until := h.chartRange(f)
		g := f
		g.Since, g.Until = since.Truncate(chartStep(until.Sub(since))), until
		if !rc.HistogramFromRollup(g, chartStep(until.Sub(since))) {
			j.later = true
			close(j.done)
			return j
		}
	}
	go func() {
		defer close(j.done)
		j.c, j.err = h.chart(r.WithContext(ctx), q, f)
	}()
	return j
}

// inlineChart waits for the chart up to chartInline (to the end with
// chart=full); a chart not ready by then is cancelled and the page gets
// the URL that draws it.
func (h *Handler) inlineChart(r *http.Request, q string, f sidelog.Filter, j *chartJob) (*chart, *link, string) {
	if j.later {
		return h.chartLater(q)
	}
	wait := time.NewTimer(chartInline)
	defer wait.Stop()
	if j.full {
		wait.Reset(chartBudget + time.Second)
	}
	select {
	case <-j.done:
	case <-wait.C:
		j.cancel()
		return h.chartLater(q)
	}
	if j.err == nil {
		return j.c, nil, ""
	}
	if r.Context().Err() == nil && errors.Is(j.err, context.DeadlineExceeded) {
		return nil, &link{"The chart was not drawn: counting this query row by row over the range took over " +
			chartBudget.String() + ". Narrow the time range.", ""}, ""
	}
	return nil, &link{"The chart failed: " + errorText(j.err), ""}, ""
}

// chartLater is the note and URL of a chart that follows the list.
func (h *Handler) chartLater(q string) (*chart, *link, string) {
	v := url.Values{"q": {q}}
	return nil, &link{"The chart of this query is counted row by row; it follows the list.", h.chartPageURL(q)}, h.opts.Prefix + "/chart?" + v.Encode()
}

// chartPageURL is the list of q drawn with its chart, however long it takes.
func (h *Handler) chartPageURL(q string) string {
	v := url.Values{"chart": {"full"}}
	if q != "" {
		v.Set("q", q)
	}
	return h.opts.Prefix + "/?" + v.Encode()
}

// chartPart serves the list's chart alone, as the HTML the list would hold:
// the page's script puts it in place after the list is shown.
func (h *Handler) chartPart(w http.ResponseWriter, r *http.Request) {
	q, f, err := h.parse(r)
	if err != nil {
		http.Error(w, errorText(err), http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), chartBudget)
	defer cancel()
	p := h.newPage(r, "Chart")
	p.Q = q
	p.Chart, err = h.chart(r.WithContext(ctx), q, f)
	if err != nil {
		msg := "The chart failed: " + errorText(err)
		if errors.Is(err, context.DeadlineExceeded) {
			msg = "The chart was not drawn: counting this query row by row over the range took over " + chartBudget.String() + ". Narrow the time range."
		}
		p.ChartNote = &link{msg, ""}
	}
	var b bytes.Buffer
	if err := templates["list.html"].ExecuteTemplate(&b, "chart", p); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// AttrChecker tells which attribute terms of a filter name an attribute no
// record in its range has. *sqlite.DB implements it; the list then says so
// when a query finds little, with the field the term was probably meant
// for (lvl:warn → level:warn).
type AttrChecker interface {
	MissingAttrs(ctx context.Context, f sidelog.Filter) ([]sidelog.MissingAttr, error)
}

// missingAttrs returns the hints for f's attribute terms on keys no record
// has, each linking to q with the term replaced by the suggestion.
func (h *Handler) missingAttrs(r *http.Request, q string, f sidelog.Filter) []link {
	ac, ok := h.opts.Store.(AttrChecker)
	if !ok || f.Expr == nil {
		return nil
	}
	missing, err := ac.MissingAttrs(r.Context(), f)
	if err != nil {
		return nil // a hint only
	}
	var out []link
	for _, m := range missing {
		l := link{Label: "Note: " + m.Hint()}
		if m.Suggestion != "" && strings.Contains(q, m.Term) {
			l.URL = h.listURL(strings.Replace(q, m.Term, m.Suggestion, 1))
		}
		out = append(out, l)
	}
	return out
}

// termInError finds the term a query error names: ... term "level:loud" ...
var termInError = regexp.MustCompile(`term ("(?:[^"\\]|\\.)*")`)

// errorTerm returns the term a query error message names, or "".
func errorTerm(msg string) string {
	m := termInError.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	t, err := strconv.Unquote(m[1])
	if err != nil {
		return ""
	}
	return t
}
