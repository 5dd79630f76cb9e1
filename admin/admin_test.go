package admin_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/admin"
	"github.com/sidelog/sidelog/cli"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sqlite"
)

// testAuth is the application side of the UI in these tests: the user is
// named by the X-User header ("super", "viewer", "plain"), with a fixed
// CSRF token per user.
type testAuth struct{}

var users = map[string]*admin.User{
	"super":  {ID: "1", Name: "Sue", Role: admin.RoleSuperuser},
	"super2": {ID: "4", Name: "Sam", Role: admin.RoleSuperuser},
	"viewer": {ID: "2", Name: "Vic", Role: admin.RoleViewer},
	"plain":  {ID: "3", Name: "Pat", Role: admin.RoleNone},
}

func (testAuth) User(r *http.Request) *admin.User { return users[r.Header.Get("X-User")] }
func (testAuth) CSRFToken(r *http.Request) string {
	if u := r.Header.Get("X-User"); u != "" {
		return "token-of-" + u
	}
	return ""
}
func (testAuth) LoginURL(*http.Request) string { return "/login" }

type testNames struct{}

func (testNames) UserName(_ context.Context, id string) string {
	if id == "42" {
		return "Alice <alice@example.com>"
	}
	return ""
}
func (testNames) TenantName(_ context.Context, id string) string {
	if id == "7" {
		return "Acme <b>Corp</b>"
	}
	return ""
}

// env is a UI over a real log database.
type env struct {
	t      *testing.T
	db     *sqlite.DB
	h      *admin.Handler
	srv    *httptest.Server
	events *handler.Handler
	now    time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, now: time.Now().UTC()}
	e.events = handler.New(db, &handler.Options{Logger: "test"})
	opts := cli.AdminOptions(db)
	opts.Auth, opts.Names, opts.Logger = testAuth{}, testNames{}, slog.New(e.events)
	opts.Prefix, opts.TailInterval, opts.Pipeline = "/admin", 50*time.Millisecond, e.events.Stats
	e.h = admin.New(opts)
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(func() {
		e.srv.Close()
		e.events.Close(context.Background())
		db.Close()
	})
	return e
}

// write stores records, oldest first.
func (e *env) write(recs ...sidelog.Record) {
	e.t.Helper()
	if err := e.db.WriteBatch(context.Background(), recs); err != nil {
		e.t.Fatal(err)
	}
}

// flushEvents waits for the security events to reach the database.
func (e *env) flushEvents() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.events.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
}

type resp struct {
	Status int
	Header http.Header
	Body   string
}

func (e *env) do(user, method, path string, form url.Values) resp {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.Header.Set("X-User", user)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, string(b)}
}

func (e *env) get(user, path string) resp { e.t.Helper(); return e.do(user, "GET", path, nil) }

func (e *env) post(user, path string, form url.Values) resp {
	e.t.Helper()
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", "token-of-"+user)
	}
	return e.do(user, "POST", path, form)
}

func rec(ago time.Duration, now time.Time, lvl slog.Level, msg string) sidelog.Record {
	return sidelog.Record{Time: now.Add(-ago), Level: lvl, Message: msg}
}

// TestRoutesByRole walks every route of the UI, from its own route table,
// for each kind of visitor. A new route without an expectation fails.
func TestRoutesByRole(t *testing.T) {
	e := newEnv(t)
	e.write(sidelog.Record{Time: e.now.Add(-time.Minute), Level: slog.LevelInfo, Message: "hello", UserID: "42"})
	res, _ := e.db.Query(context.Background(), sidelog.Filter{}, sidelog.Page{Limit: 1})
	id := res.Records[0].ID
	// The expected status of each route for: anonymous, plain user,
	// log viewer, superuser.
	want := map[string][4]int{
		"GET /admin/{$}":                {303, 403, 200, 200},
		"GET /admin/chart":              {303, 403, 200, 200},
		"GET /admin/records/{id}":       {303, 403, 200, 200},
		"GET /admin/tail":               {303, 403, 200, 200},
		"GET /admin/export":             {303, 403, 200, 200},
		"GET /admin/delete":             {303, 403, 403, 200},
		"POST /admin/delete":            {303, 403, 403, 303},
		"POST /admin/views":             {303, 403, 303, 303},
		"POST /admin/views/{id}/delete": {303, 403, 404, 404},
		"GET /admin/requests":           {303, 403, 200, 200},
		"GET /admin/stats":              {303, 403, 200, 200},
		"POST /admin/settings":          {303, 403, 403, 303},
		"GET /admin/help":               {303, 403, 200, 200},
		"GET /admin/history":            {303, 403, 200, 200},
		"GET /admin/static/":            {200, 200, 200, 200},
		"GET /admin/favicon.ico":        {200, 200, 200, 200},
	}
	seen := map[string]bool{}
	for _, rt := range e.h.Routes() {
		key := rt.Method + " " + rt.Pattern
		seen[key] = true
		exp, ok := want[key]
		if !ok {
			t.Errorf("route %s has no expected statuses in this test: add it", key)
			continue
		}
		path := strings.NewReplacer("{$}", "", "{id}", fmt.Sprint(id)).Replace(rt.Pattern)
		switch key {
		case "GET /admin/static/":
			path += "admin.css"
		case "GET /admin/tail":
			path += "?q=hello"
		case "GET /admin/delete":
			path += "?q=hello"
		case "POST /admin/views/{id}/delete":
			path = "/admin/views/nosuchview/delete"
		}
		for i, who := range []string{"", "plain", "viewer", "super"} {
			var r resp
			switch {
			case rt.Method == "GET" && rt.Pattern == "/admin/tail":
				r = e.tailStatus(who, path)
			case rt.Method == "GET":
				r = e.get(who, path)
			default:
				form := url.Values{"q": {"level:debug since:1s"}, "name": {"v"}, "info": {"30"}}
				form.Set("csrf_token", "token-of-"+who)
				r = e.do(who, "POST", path, form)
			}
			if r.Status != exp[i] {
				t.Errorf("%s as %q: status %d, want %d", key, who, r.Status, exp[i])
			}
			if r.Status == 303 && exp[i] == 303 && who == "" && r.Header.Get("Location") != "/login" {
				t.Errorf("%s anonymous: redirect to %q, want /login", key, r.Header.Get("Location"))
			}
			if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("%s as %q: CSP %q", key, who, csp)
			}
		}
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("expected route %s is not served", key)
		}
	}
	// Unknown paths: the login for strangers, 404 for users.
	if r := e.get("", "/admin/nope"); r.Status != 303 {
		t.Errorf("unknown path anonymous: %d", r.Status)
	}
	if r := e.get("viewer", "/admin/nope"); r.Status != 404 {
		t.Errorf("unknown path: %d", r.Status)
	}
}

// tailStatus opens the event stream and returns its status without
// waiting for events.
func (e *env) tailStatus(user, path string) resp {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+path, nil)
	if user != "" {
		req.Header.Set("X-User", user)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return resp{Status: res.StatusCode, Header: res.Header}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	e.write(rec(time.Minute, e.now, slog.LevelError, "boom"))
	for _, tok := range []string{"", "token-of-viewer", "token-of-supe", "token-of-super "} {
		form := url.Values{"q": {"boom"}, "csrf_token": {tok}}
		if r := e.do("super", "POST", "/admin/delete", form); r.Status != 403 {
			t.Errorf("delete with token %q: %d", tok, r.Status)
		}
	}
	if n, _ := e.db.Count(context.Background(), sidelog.Filter{Text: "boom"}); n != 1 {
		t.Errorf("a refused delete deleted: %d left", n)
	}
	// A cross-origin POST is refused before the token is looked at.
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/delete", strings.NewReader("q=boom&csrf_token=token-of-super"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-User", "super")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Errorf("cross-site delete: %d", res.StatusCode)
	}
}

// hostile values of every kind, in every field that comes from a log.
var payloads = []string{
	`<script>alert(1)</script>`,
	`<img src=x onerror=alert(2)>`,
	`javascript:alert(3)`,
	`"><svg onload=alert(4)>`,
}

func hostileRecords(now time.Time) []sidelog.Record {
	var recs []sidelog.Record
	for i, p := range payloads {
		attrs, _ := json.Marshal(map[string]any{p: p, "nested": map[string]any{p: []any{p, 1}}})
		recs = append(recs, sidelog.Record{
			Time: now.Add(-time.Duration(10-i) * time.Second), Level: slog.LevelWarn, Kind: sidelog.KindRequest,
			Message: p, Logger: p, Path: "/x/" + p, UserAgent: p, Error: p, Method: "GET", Status: 404,
			RequestID: "r" + fmt.Sprint(i) + p, UserID: p, TenantID: "7", Attrs: attrs,
		})
	}
	return recs
}

// rawPayload finds a payload's markup unescaped in a page.
var rawPayload = regexp.MustCompile(`<script>alert|<img src=x|<svg onload|href="javascript:`)

func TestEscaping(t *testing.T) {
	e := newEnv(t)
	e.write(hostileRecords(e.now)...)
	res, _ := e.db.Query(context.Background(), sidelog.Filter{}, sidelog.Page{Limit: 10})
	pages := []string{"/admin/", "/admin/?q=kind:request", "/admin/stats"}
	for _, r := range res.Records {
		pages = append(pages, fmt.Sprintf("/admin/records/%d", r.ID), fmt.Sprintf("/admin/records/%d?q=%s", r.ID, url.QueryEscape(`"`+payloads[0]+`"`)))
	}
	for _, p := range payloads {
		pages = append(pages, "/admin/?q="+url.QueryEscape(p), "/admin/?q="+url.QueryEscape(`"`+p+`"`), "/admin/delete?q="+url.QueryEscape(`"`+p+`"`))
	}
	for _, p := range pages {
		r := e.get("super", p)
		if m := rawPayload.FindString(r.Body); m != "" {
			t.Errorf("%s shows %q unescaped", p, m)
		}
	}
	detail := e.get("super", fmt.Sprintf("/admin/records/%d", res.Records[0].ID)).Body
	for _, want := range []string{html.EscapeString(payloads[3]), "Acme &lt;b&gt;Corp&lt;/b&gt;"} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail lacks %q shown as text", want)
		}
	}
	// Exports carry the values as data: JSON escapes them, CSV neutralises
	// formulas and quotes.
	body := e.get("super", "/admin/export?format=csv&q=kind:request").Body
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != len(payloads)+1 {
		t.Fatalf("csv: %d rows, %v", len(rows), err)
	}
}

func TestQueryErrors(t *testing.T) {
	e := newEnv(t)
	for q, want := range map[string]string{
		"level:loud":                     `level:loud`,
		"status:abc":                     `status:abc`,
		`"unterminated`:                  `unterminated`,
		"status>=abc":                    `status&gt;=abc`,
		strings.Repeat("a ", 3000) + "b": "too long",
	} {
		r := e.get("viewer", "/admin/?q="+url.QueryEscape(q))
		if r.Status != 400 {
			t.Errorf("%.40q: status %d", q, r.Status)
		}
		m := regexp.MustCompile(`(?s)<p class="error"[^>]*>(.*?)</p>`).FindStringSubmatch(r.Body)
		if m == nil || !strings.Contains(m[1], want) {
			t.Errorf("%.40q: error message %q does not point at %q", q, m, want)
		}
		if !strings.Contains(r.Body, `value="`+html.EscapeString(q)+`"`) {
			t.Errorf("%.40q: the box lost the query", q)
		}
	}
}

// TestPagination checks that keyset pages stay right while records
// arrive: the older page does not shift, and the newer notice appears.
func TestPagination(t *testing.T) {
	e := newEnv(t)
	var recs []sidelog.Record
	for i := range 120 {
		recs = append(recs, rec(time.Duration(200-i)*time.Second, e.now, slog.LevelInfo, fmt.Sprintf("msg%03d", i)))
	}
	e.write(recs...)
	first := e.get("viewer", "/admin/")
	older := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(first.Body)
	if older == nil {
		t.Fatal("no older link")
	}
	if !strings.Contains(first.Body, "msg119") || !strings.Contains(first.Body, "msg070") || strings.Contains(first.Body, "msg069") {
		t.Error("first page is not the 50 newest")
	}
	// New records arrive; the second page is the same.
	e.write(rec(time.Second, e.now, slog.LevelInfo, "fresh1"), rec(0, e.now, slog.LevelInfo, "fresh2"))
	second := e.get("viewer", html.UnescapeString(older[1]))
	if !strings.Contains(second.Body, "msg069") || !strings.Contains(second.Body, "msg020") || strings.Contains(second.Body, "msg070") || strings.Contains(second.Body, "msg019") {
		t.Error("second page shifted when records arrived")
	}
	if !strings.Contains(second.Body, "Newer records have arrived") {
		t.Error("no notice of newer records")
	}
	if !strings.Contains(second.Body, "← Newest") {
		t.Error("no link to the newest")
	}
}

func TestQuickFiltersWriteTerms(t *testing.T) {
	e := newEnv(t)
	r := e.get("viewer", "/admin/?q=timeout+level:debug&level=warn&kind=request&status=5xx&range=since:1h&from=&to=2026-01-02T03:04")
	if r.Status != 303 {
		t.Fatalf("status %d", r.Status)
	}
	loc, _ := url.Parse(r.Header.Get("Location"))
	want := "timeout level>=warn kind:request status:5xx since:1h until:2026-01-02T03:04:00Z"
	if got := loc.Query().Get("q"); got != want {
		t.Errorf("q = %q, want %q", got, want)
	}
	if len(loc.Query()) != 1 {
		t.Errorf("the URL keeps more than the query: %s", loc)
	}
}

func TestChart(t *testing.T) {
	e := newEnv(t)
	e.write(rec(3*time.Hour, e.now, slog.LevelError, "old error"), rec(time.Hour, e.now, slog.LevelInfo, "info"), rec(time.Minute, e.now, slog.LevelWarn, "warn"))
	r := e.get("viewer", "/admin/?q=since:24h")
	if !strings.Contains(r.Body, "<svg") || !strings.Contains(r.Body, `class="lv-error"`) || !strings.Contains(r.Body, `class="lv-warn"`) {
		t.Fatal("chart lacks bars by level")
	}
	if strings.Contains(r.Body, "style=") {
		t.Error("inline style in the page")
	}
	// Each bar links to its own range; following the error's bar lists
	// only the error.
	links := regexp.MustCompile(`<a href="([^"]+)" class="bar"><title>([^<]*)</title>`).FindAllStringSubmatch(r.Body, -1)
	if len(links) < 24 || len(links) > 90 {
		t.Fatalf("%d bars", len(links))
	}
	var errBar string
	for _, l := range links {
		if strings.Contains(l[2], "error 1)") {
			errBar = html.UnescapeString(l[1])
		}
	}
	if errBar == "" {
		t.Fatal("no bar holds the error")
	}
	narrowed := e.get("viewer", errBar)
	if !strings.Contains(narrowed.Body, "old error") || strings.Contains(narrowed.Body, ">warn<") || strings.Contains(narrowed.Body, ">info</a>") {
		t.Errorf("bar link %s does not narrow to its records", errBar)
	}
	u, _ := url.Parse(errBar)
	if q := u.Query().Get("q"); !strings.Contains(q, "since:") || !strings.Contains(q, "until:") || strings.Contains(q, "since:24h") {
		t.Errorf("bar query %q", q)
	}
}

func TestDetail(t *testing.T) {
	e := newEnv(t)
	e.write(sidelog.Record{Time: e.now, Level: slog.LevelError, Kind: sidelog.KindRequest, Message: "GET /pay 500",
		RequestID: "req-1", TraceID: "0af7651916cd43dd8448eb211c80319c", UserID: "42", TenantID: "7",
		Method: "GET", Path: "/pay", Status: 500, Duration: 12 * time.Millisecond,
		Attrs: json.RawMessage(`{"cart":{"items":[{"sku":"A1","qty":2}],"empty":{}},"retry":true}`)},
		sidelog.Record{Time: e.now, Level: slog.LevelInfo, Message: "charging card", RequestID: "req-1", UserID: "42"})
	res, _ := e.db.Query(context.Background(), sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindRequest}}, sidelog.Page{})
	r := e.get("viewer", fmt.Sprintf("/admin/records/%d", res.Records[0].ID))
	for _, want := range []string{
		"Alice &lt;alice@example.com&gt;", // the user's name from the business database
		"Every record of this request", "/admin/?q=request%3Areq-1",
		"/admin/?q=user%3A42", "/admin/?q=trace%3A0af7651916cd43dd8448eb211c80319c",
		`<span class="key">sku</span> <span class="v-string">A1</span>`, // the tree, indented
		`<span class="key">empty</span> <span class="v-null">{}</span>`,
		"12.0 ms",
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	reqList := e.get("viewer", "/admin/?q=request%3Areq-1")
	if !strings.Contains(reqList.Body, "charging card") || !strings.Contains(reqList.Body, "GET /pay 500") {
		t.Error("the request link does not list both records")
	}
	if r := e.get("viewer", "/admin/records/99999999999"); r.Status != 404 {
		t.Errorf("missing record: %d", r.Status)
	}
	if r := e.get("viewer", "/admin/records/abc"); r.Status != 404 {
		t.Errorf("bad id: %d", r.Status)
	}
}

func TestExport(t *testing.T) {
	e := newEnv(t)
	for i := range 30 {
		e.write(rec(time.Duration(i)*time.Second, e.now, slog.Level(4*(i%3)), fmt.Sprintf("m%d", i)))
	}
	r := e.get("viewer", "/admin/export?format=jsonl&q=level>=warn")
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/jsonl; charset=utf-8" || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", r.Status, r.Header)
	}
	if n := strings.Count(r.Body, "\n"); n != 20 {
		t.Errorf("jsonl lines: %d, want 20", n)
	}
	if r := e.get("viewer", "/admin/export?format=parquet"); r.Status != 200 || !strings.HasPrefix(r.Body, "PAR1") {
		t.Errorf("parquet: %d %q", r.Status, r.Body[:min(4, len(r.Body))])
	}
	if r := e.get("viewer", "/admin/export?format=xml"); r.Status != 400 {
		t.Errorf("bad format: %d", r.Status)
	}
}

// securityEvents returns the messages and queries of the UI's security
// records.
func (e *env) securityEvents() []string {
	e.t.Helper()
	e.flushEvents()
	var out []string
	for r, err := range e.db.Scan(context.Background(), sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindSecurity}}) {
		if err != nil {
			e.t.Fatal(err)
		}
		var a map[string]any
		json.Unmarshal(r.Attrs, &a)
		out = append(out, fmt.Sprintf("%s user=%s query=%v", r.Message, r.UserID, a["query"]))
	}
	return out
}

func TestDeleteByQuery(t *testing.T) {
	e := newEnv(t)
	e.write(rec(time.Minute, e.now, slog.LevelError, "card declined"), rec(time.Minute, e.now, slog.LevelError, "card declined again"), rec(time.Minute, e.now, slog.LevelInfo, "fine"))
	r := e.get("super", "/admin/delete?q=card")
	if !strings.Contains(r.Body, `<strong id="delete-count">2</strong>`) || !strings.Contains(r.Body, "card") {
		t.Fatalf("confirmation page:\n%s", r.Body)
	}
	if r := e.get("super", "/admin/delete?q="); r.Status != 400 {
		t.Errorf("empty query: %d", r.Status)
	}
	if r := e.post("super", "/admin/delete", url.Values{"q": {""}}); r.Status != 400 {
		t.Errorf("empty query post: %d", r.Status)
	}
	if r := e.post("viewer", "/admin/delete", url.Values{"q": {"card"}}); r.Status != 403 {
		t.Errorf("viewer delete: %d", r.Status)
	}
	if r := e.post("super", "/admin/delete", url.Values{"q": {"card"}}); r.Status != 303 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	ctx := context.Background()
	if n, _ := e.db.Count(ctx, sidelog.Filter{Text: "card"}); n != 0 {
		t.Errorf("%d matching records left", n)
	}
	if n, _ := e.db.Count(ctx, sidelog.Filter{Text: "fine"}); n != 1 {
		t.Errorf("the other record is gone")
	}
	evs := strings.Join(e.securityEvents(), "\n")
	if !strings.Contains(evs, "logs deleted by query user=1 query=card") || !strings.Contains(evs, "deleted 2 records by query user=1") {
		t.Errorf("no security event of the deletion:\n%s", evs)
	}
}

func TestReadEvents(t *testing.T) {
	e := newEnv(t)
	e.write(rec(time.Minute, e.now, slog.LevelInfo, "x"))
	for range 5 {
		e.get("viewer", "/admin/?q=user:42")
	}
	e.get("viewer", "/admin/?q=user:43")
	e.get("super", "/admin/?q=user:42")
	e.get("viewer", "/admin/export?q=user:42")
	evs := e.securityEvents()
	count := func(s string) int {
		n := 0
		for _, ev := range evs {
			if ev == s {
				n++
			}
		}
		return n
	}
	for s, want := range map[string]int{
		"logs list user=2 query=user:42":   1, // five pages, one event
		"logs list user=2 query=user:43":   1,
		"logs list user=1 query=user:42":   1,
		"logs export user=2 query=user:42": 1,
	} {
		if got := count(s); got != want {
			t.Errorf("%q: %d events, want %d\n%s", s, got, want, strings.Join(evs, "\n"))
		}
	}
}

func TestSavedViews(t *testing.T) {
	e := newEnv(t)
	e.write(rec(time.Minute, e.now, slog.LevelError, "a"), rec(2*time.Hour, e.now, slog.LevelError, "b"))
	if r := e.post("viewer", "/admin/views", url.Values{"q": {"level>=error"}, "name": {"Errors <b>"}, "shared": {"1"}}); r.Status != 303 {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	e.post("super", "/admin/views", url.Values{"q": {"level:info"}, "name": {"Shared info"}, "shared": {"1"}})
	page := e.get("viewer", "/admin/")
	m := regexp.MustCompile(`title="level&gt;=error">Errors &lt;b&gt;</a>\s*<span class="count"[^>]*>(\d+)</span>`).FindStringSubmatch(page.Body)
	if m == nil || m[1] != "1" {
		t.Errorf("the view's last-hour count: %v", m)
	}
	if !strings.Contains(page.Body, "Shared info") {
		t.Error("the viewer does not see the shared view")
	}
	// A viewer's view is private even when they ask to share it.
	if other := e.get("super2", "/admin/"); strings.Contains(other.Body, "Errors &lt;b&gt;") || !strings.Contains(other.Body, "Shared info") {
		t.Error("views leak between users, or shared views are missing")
	}
	if r := e.post("viewer", "/admin/views", url.Values{"q": {"level:loud"}, "name": {"bad"}}); r.Status != 400 {
		t.Errorf("bad query saved: %d", r.Status)
	}
	if r := e.post("viewer", "/admin/views", url.Values{"q": {"x"}, "name": {""}}); r.Status != 400 {
		t.Errorf("no name: %d", r.Status)
	}
	id := regexp.MustCompile(`action="/admin/views/([a-z0-9]+)/delete"`).FindAllStringSubmatch(page.Body, -1)
	if len(id) != 1 {
		t.Fatalf("viewer may delete %d views, want 1 (their own)", len(id))
	}
	if r := e.post("super2", "/admin/views/"+id[0][1]+"/delete", url.Values{}); r.Status != 404 {
		t.Errorf("another user deleted a private view: %d", r.Status)
	}
	if r := e.post("viewer", "/admin/views/"+id[0][1]+"/delete", url.Values{}); r.Status != 303 {
		t.Errorf("delete own view: %d", r.Status)
	}
	if strings.Contains(e.get("viewer", "/admin/").Body, "Errors &lt;b&gt;") {
		t.Error("deleted view still listed")
	}
}

func TestStatsAndSettings(t *testing.T) {
	e := newEnv(t)
	e.write(rec(time.Minute, e.now, slog.LevelError, "a"), sidelog.Record{Time: e.now, Kind: sidelog.KindAudit, Message: "b"})
	r := e.get("viewer", "/admin/stats")
	for _, want := range []string{"write-ahead logs", "oldest", "dropped", "debug 7d, info 30d, warn 90d, error 365d"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("stats lack %q", want)
		}
	}
	if d := e.get("viewer", "/admin/stats?space=1"); !strings.Contains(d.Body, "full-text search") {
		t.Error("the detailed split is missing")
	}
	if strings.Contains(r.Body, `action="/admin/settings"`) {
		t.Error("a viewer is offered the settings form")
	}
	form := url.Values{"debug": {"3"}, "info": {"14"}, "warn": {""}, "error": {"400"}, "audit": {"730"}, "max_mib": {"512"}}
	if r := e.post("super", "/admin/settings", form); r.Status != 303 {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	pol, _ := e.db.Retention(context.Background())
	if pol.String() != "debug 3d, info 14d, warn forever, error 400d, audit/security 730d, at most 512 MiB" {
		t.Errorf("saved policy: %s", pol)
	}
	for _, bad := range []url.Values{{"debug": {"-1"}}, {"info": {"ten"}}, {"error": {"99999999"}}, {"max_mib": {"x"}}} {
		if r := e.post("super", "/admin/settings", bad); r.Status != 400 {
			t.Errorf("%v: %d", bad, r.Status)
		}
	}
	if p2, _ := e.db.Retention(context.Background()); p2 != pol {
		t.Error("a refused form changed the policy")
	}
}

func TestTail(t *testing.T) {
	e := newEnv(t)
	e.write(rec(time.Minute, e.now, slog.LevelError, "before"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/admin/tail?q=level>=warn", nil)
	req.Header.Set("X-User", "viewer")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	time.Sleep(100 * time.Millisecond)
	e.write(rec(0, time.Now(), slog.LevelInfo, "quiet"), rec(0, time.Now(), slog.LevelError, "tailed <b>one</b>"))
	sc := bufio.NewScanner(res.Body)
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			data = append(data, d)
		}
		if line == "" && len(data) > 0 {
			break
		}
	}
	got := strings.Join(data, "\n")
	if !strings.Contains(got, "tailed &lt;b&gt;one&lt;/b&gt;") || strings.Contains(got, "before") || strings.Contains(got, "quiet") {
		t.Errorf("tail event:\n%s", got)
	}
}

// slowCharts is the log store with a histogram that takes 300 ms, or
// until its context ends: a chart the rollups cannot count.
type slowCharts struct{ *sqlite.DB }

func (s slowCharts) Histogram(ctx context.Context, f sidelog.Filter, step time.Duration) ([]sidelog.Bucket, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(300 * time.Millisecond):
	}
	return s.DB.Histogram(ctx, f, step)
}

// TestChartAfterList checks that a slow chart does not hold up the list:
// the page comes without it, with the URL its script fetches the chart
// from and a link that draws the page with it; that URL gives the chart.
func TestChartAfterList(t *testing.T) {
	e := newEnv(t)
	e.write(rec(time.Minute, e.now, slog.LevelWarn, "slow chart"))
	opts := cli.AdminOptions(e.db)
	opts.Store = slowCharts{e.db}
	opts.Auth, opts.Prefix = testAuth{}, "/admin"
	srv := httptest.NewServer(admin.New(opts))
	defer srv.Close()
	get := func(path string) (int, string, time.Duration) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("X-User", "viewer")
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(b), time.Since(start)
	}
	status, body, took := get("/admin/?q=slow")
	if status != 200 || !strings.Contains(body, "slow chart") || strings.Contains(body, "<svg") {
		t.Fatalf("status %d; the list without its chart expected", status)
	}
	if took >= 300*time.Millisecond {
		t.Errorf("the list waited %s for its chart", took)
	}
	m := regexp.MustCompile(`id="chart-slot" data-src="([^"]+)"`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, `id="chart-note"`) || !strings.Contains(body, "chart=full") {
		t.Fatalf("no chart URL, note and link for the chart that follows:\n%s", body)
	}
	status, part, _ := get(html.UnescapeString(m[1]))
	if status != 200 || !strings.HasPrefix(strings.TrimSpace(part), `<figure class="chart">`) || !strings.Contains(part, `class="bar"`) || strings.Contains(part, "<html") {
		t.Errorf("the chart part: status %d\n%s", status, part)
	}
	// chart=full waits for it.
	if status, body, _ := get("/admin/?q=slow&chart=full"); status != 200 || !strings.Contains(body, `<figure class="chart">`) {
		t.Errorf("chart=full: status %d, no chart", status)
	}
	// A bad query: 400 from the chart part too.
	if status, _, _ := get("/admin/chart?q=level:loud"); status != 400 {
		t.Errorf("bad query: chart part status %d", status)
	}
}

// TestTail_LateRecord checks that live tail shows a record written late
// for an earlier day (a batch held up over midnight, an import) as well as
// new ones, and nothing written before the tail began.
func TestTail_LateRecord(t *testing.T) {
	e := newEnv(t)
	yesterday := e.now.Add(-30 * time.Hour)
	e.write(rec(0, yesterday, slog.LevelError, "old yesterday"), rec(time.Minute, e.now, slog.LevelError, "before"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, _ := e.db.Query(ctx, sidelog.Filter{}, sidelog.Page{Limit: 1})
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/admin/tail?q=level>=warn&after="+fmt.Sprint(res.Records[0].ID), nil)
	req.Header.Set("X-User", "viewer")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	time.Sleep(200 * time.Millisecond)
	e.write(rec(-time.Minute, yesterday, slog.LevelError, "late for yesterday"))
	time.Sleep(200 * time.Millisecond)
	e.write(rec(0, time.Now(), slog.LevelError, "new today"))
	sc := bufio.NewScanner(resp.Body)
	var got []string
	for sc.Scan() && len(got) < 2 {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok && strings.Contains(d, `class="open"`) {
			got = append(got, d)
		}
	}
	all := strings.Join(got, "\n")
	if !strings.Contains(all, "late for yesterday") || !strings.Contains(all, "new today") {
		t.Errorf("tail events: %d records\n%s", len(got), all)
	}
	if strings.Contains(all, "before") || strings.Contains(all, "old yesterday") {
		t.Errorf("tail repeats records from before it began:\n%s", all)
	}
}
