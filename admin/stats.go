package admin

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
)

// statsView is the stats and settings page.
type statsView struct {
	HasDB      bool
	DB         DBStats
	SpaceURL   string
	Levels     []countLink
	Kinds      []countLink
	Oldest     string
	Newest     string
	LastHour   int64
	Rate       string
	Pipeline   *handler.Stats
	Retention  *sidelog.Retention
	RetDays    [4]string
	AuditDays  string
	MaxMiB     string
	RetSummary string
}

// countLink is a count that links to its records.
type countLink struct {
	Label string
	N     int64
	URL   string
}

func (h *Handler) stats(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := h.newPage(r, "Stats and settings")
	sv := &statsView{}
	p.Stats = sv
	if h.opts.Stats != nil {
		st, err := h.opts.Stats(ctx, r.URL.Query().Get("space") == "1")
		if err != nil {
			p.Error = errorText(err)
		}
		sv.HasDB, sv.DB = true, st
		sv.SpaceURL = h.opts.Prefix + "/stats?space=1"
		for i, n := range st.ByLevel {
			sv.Levels = append(sv.Levels, countLink{levelCSS[i], n, h.listURL(levelTerm(i))})
		}
		for i, n := range st.ByKind {
			k := sidelog.Kind(i).String()
			sv.Kinds = append(sv.Kinds, countLink{k, n, h.listURL("kind:" + k)})
		}
		if !st.Oldest.IsZero() {
			sv.Oldest = st.Oldest.Format("2006-01-02 15:04:05 UTC")
			sv.Newest = st.Newest.Format("2006-01-02 15:04:05 UTC")
		}
	}
	now := h.opts.Now()
	if n, err := h.opts.Store.Count(ctx, sidelog.Filter{Since: now.Add(-time.Hour)}); err == nil {
		sv.LastHour = n
		sv.Rate = fmt.Sprintf("%.1f records/s over the last hour", float64(n)/3600)
	}
	if h.opts.Pipeline != nil {
		ps := h.opts.Pipeline()
		sv.Pipeline = &ps
	}
	if rs, ok := h.opts.Store.(RetentionStore); ok {
		pol, err := rs.Retention(ctx)
		if err != nil {
			p.Error = errorText(err)
		} else {
			sv.Retention = &pol
			for i, a := range pol.MaxAge {
				sv.RetDays[i] = days(a)
			}
			sv.AuditDays = days(pol.AuditAge)
			if pol.MaxBytes > 0 {
				sv.MaxMiB = strconv.FormatInt(pol.MaxBytes>>20, 10)
			}
			sv.RetSummary = pol.String()
		}
	}
	h.readEvent(r, "stats", "")
	h.render(w, r, "stats.html", http.StatusOK, p)
}

// levelTerm is the query of one level class.
func levelTerm(class int) string {
	switch class {
	case 0:
		return "level<=debug"
	case 3:
		return "level>=error"
	}
	return "level:" + levelCSS[class]
}

// days writes an age in whole days, "" for forever.
func days(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return strconv.FormatInt(int64((d+sidelog.Day-1)/sidelog.Day), 10)
}

// maxRetentionDays bounds an age the form accepts (100 years).
const maxRetentionDays = 36500

func (h *Handler) settingsPost(w http.ResponseWriter, r *http.Request) {
	rs, ok := h.opts.Store.(RetentionStore)
	if !ok {
		h.renderError(w, r, http.StatusNotFound, "This log store has no retention settings.")
		return
	}
	age := func(field string) (time.Duration, error) {
		s := strings.TrimSpace(r.PostFormValue(field))
		if s == "" || s == "0" {
			return 0, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxRetentionDays {
			return 0, fmt.Errorf("%s: %q is not a number of days from 0 to %d (empty keeps forever)", field, s, maxRetentionDays)
		}
		return time.Duration(n) * sidelog.Day, nil
	}
	var pol sidelog.Retention
	var err error
	for i, name := range levelCSS {
		if pol.MaxAge[i], err = age(name); err != nil {
			break
		}
	}
	if err == nil {
		pol.AuditAge, err = age("audit")
	}
	if s := strings.TrimSpace(r.PostFormValue("max_mib")); err == nil && s != "" && s != "0" {
		n, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || n < 0 || n > 1<<30 {
			err = fmt.Errorf("max size: %q is not a number of MiB", s)
		}
		pol.MaxBytes = n << 20
	}
	if err == nil {
		err = rs.SetRetention(r.Context(), pol)
	}
	if err != nil {
		h.renderError(w, r, http.StatusBadRequest, "The policy was not saved: "+strings.TrimPrefix(err.Error(), "sidelog: "))
		return
	}
	h.security(r, slog.LevelWarn, "log retention policy changed", "policy", pol.String())
	h.setFlash(w, "Retention policy saved: "+pol.String())
	http.Redirect(w, r, h.opts.Prefix+"/stats", http.StatusSeeOther)
}

func (h *Handler) help(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "Query language and keys")
	p.HelpExamples = h.helpExamples()
	h.render(w, r, "help.html", http.StatusOK, p)
}

// helpExample is a row of the query help: example terms and what they do.
type helpExample struct {
	Terms []exampleTerm
	Note  string
}

// exampleTerm is an example term and the list it gives.
type exampleTerm struct{ Term, URL string }

// queryExamples are the query help's rows; every term is a valid query
// (a test parses each).
var queryExamples = []struct {
	terms []string
	note  string
}{
	{[]string{"level:warn", "level>=warn", "level:warn,error"}, "level: debug, info, warn, error, or a number"},
	{[]string{"kind:request", "kind:audit,security"}, "app, request, audit, security"},
	{[]string{"status:500", "status:5xx", "status>=400", "status:404,410"}, "HTTP status of requests"},
	{[]string{"duration>250ms", "duration<=1.5s"}, "request duration, with a unit (ns us ms s m h)"},
	{[]string{`route:"GET /projects/{id}"`, "path:/api/*", "method:DELETE"}, "route pattern; URL path (a prefix when it ends in *); method"},
	{[]string{"user:42", "tenant:7", "request:ID", "trace:ID", "logger:http", "ip:10.0.0.1"}, "exact matches"},
	{[]string{"project_id:4", "order.total>100", "customer.email:alice@example.com"}, "an attribute, nested by dotted path"},
	{[]string{"has:order.id", "has:error", "-has:user"}, "the attribute or column is present (or not)"},
	{[]string{"timeout", `"payment failed"`, "pay*"}, "text in the message, the error and the attributes' values: a word, a phrase, a prefix"},
	{[]string{"-status:200", "NOT level:info", "(user:1 OR user:2)"}, "negation, alternatives, parentheses"},
	{[]string{"since:90m", "since:7d", "since:2026-11-01", "until:2026-11-01T12:00:00Z"}, "time bounds: an age or a UTC time"},
}

func (h *Handler) helpExamples() []helpExample {
	out := make([]helpExample, len(queryExamples))
	for i, ex := range queryExamples {
		out[i].Note = ex.note
		for _, t := range ex.terms {
			out[i].Terms = append(out[i].Terms, exampleTerm{t, h.listURL(t)})
		}
	}
	return out
}
