package browser

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sidelog/sidelog/saas/store/storetest"
)

// TestAdminUI runs the whole admin UI flow against the reference app, with
// the business data in SQLite and in PostgreSQL.
func TestAdminUI(t *testing.T) {
	needBrowser(t)
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dsn := ""
			if dialect == "postgres" {
				dsn = storetest.PostgresURL(t)
			}
			a := startApp(t, dsn)
			a.signup(t, "viewer@example.com")
			a.signup(t, "plain@example.com")
			a.saas(t, "grant", "-email", "viewer@example.com")
			hostileRequests(t, a.URL)
			shots := ""
			if dialect == "sqlite" {
				shots = t.TempDir()
				if *screenshots {
					shots = "../../docs"
				}
			}
			t.Run("superuser", func(t *testing.T) { superuserFlow(t, a, shots) })
			t.Run("viewer", func(t *testing.T) { viewerFlow(t, a) })
			t.Run("plain", func(t *testing.T) { plainFlow(t, a) })
			t.Run("hostile", func(t *testing.T) { hostileFlow(t, a) })
			t.Run("csp", func(t *testing.T) { cspHeaders(t, a) })
			t.Run("history", func(t *testing.T) { historyFlow(t, a, shots) })
		})
	}
}

// tab is a browser tab that records every dialog, exception and console
// error, and fails its test on any.
type tab struct {
	t   *testing.T
	ctx context.Context
	app *app

	mu       sync.Mutex
	problems []string
	ended    bool
	doc      string // the URL last navigated to: its own error status is expected
}

func newTab(t *testing.T, a *app) *tab {
	t.Helper()
	// A browser context of its own: no cookies shared with other tabs.
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // open the tab, with no deadline
		t.Fatal(err)
	}
	b := &tab{t: t, ctx: ctx, app: a}
	dialogs := make(chan struct{}, 16)
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.problems = append(b.problems, fmt.Sprintf("dialog %s: %q", ev.Type, ev.Message))
			select {
			case dialogs <- struct{}{}:
			default:
			}
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "exception: "+ev.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeLog && len(ev.Args) == 1 && string(ev.Args[0].Value) == `"__end__"` {
				b.ended = true
			} else if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				b.problems = append(b.problems, fmt.Sprintf("console.%s", ev.Type))
			}
		case *log.EventEntryAdded:
			// A 403 or 400 page is a "failed" load of the document
			// itself; anything else failing (a script, a style, the
			// icon, a CSP violation) is a problem.
			if ev.Entry.Level == log.EntryLevelError && !(ev.Entry.Source == log.EntrySourceNetwork && ev.Entry.URL == b.doc) {
				b.problems = append(b.problems, "console error: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// An open dialog blocks the page: dismiss it (it was recorded).
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-dialogs:
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				chromedp.Call(cctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
				cancel()
			}
		}
	}()
	return b
}

// do runs steps with a deadline and fails the test, naming the step.
func (b *tab) do(name string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
}

// eval evaluates JavaScript and returns its result.
func eval[T any](b *tab, name, js string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
	return v
}

// open navigates to a path of the app.
func (b *tab) open(path string) {
	b.t.Helper()
	u, _ := url.Parse(b.app.URL + path)
	b.mu.Lock()
	b.doc = u.String()
	b.mu.Unlock()
	b.do("open "+path, chromedp.Navigate(b.app.URL+path))
	// A chart counted row by row follows the list: wait for it, so that
	// every page is checked whole and no fetch is cut off by the next.
	if !waitFor(b.ctx, 10*time.Second, func() bool {
		return eval[bool](b, "chart loaded", `(function(){ var s = document.getElementById('chart-slot'); return !s || s.classList.contains('loaded'); })()`)
	}) {
		b.t.Errorf("%s: the chart never followed the list", path)
	}
}

// location returns the current URL, decoded.
func (b *tab) location() string {
	b.t.Helper()
	u := eval[string](b, "location", `location.href`)
	d, _ := url.QueryUnescape(u)
	return d
}

// login logs in through the app's login page.
func (b *tab) login(email, pw string) {
	b.t.Helper()
	b.open("/login")
	b.do("login "+email,
		chromedp.SendKeys(`input[name=email]`, email),
		chromedp.SendKeys(`input[name=password]`, pw),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`form[action="/logout"]`),
	)
	b.clear() // the app's own pages are not under test here
}

func (b *tab) clear() {
	b.mu.Lock()
	b.problems = nil
	b.mu.Unlock()
}

// clean fails the test on any dialog, exception or console error seen so
// far: it logs a marker and waits for it, so that every earlier event is in.
func (b *tab) clean(where string) {
	b.t.Helper()
	b.mu.Lock()
	b.ended = false
	b.mu.Unlock()
	eval[bool](b, "end marker", `console.log("__end__"), true`)
	if !waitFor(b.ctx, 10*time.Second, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.ended }) {
		b.t.Fatalf("%s: the console marker never arrived", where)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("%s: %s", where, p)
	}
	b.problems = nil
}

// shot saves a screenshot of the page (or of one element) as dir/name.
func (b *tab) shot(dir, name, sel string) {
	b.t.Helper()
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	var png []byte
	var err error
	if sel == "" {
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	} else {
		png, err = chromedp.Run(ctx, chromedp.ScreenshotScale(sel, 1))
	}
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func superuserFlow(t *testing.T, a *app, shots string) {
	b := newTab(t, a)
	b.login(adminEmail, adminPassword)

	// The app links to the logs; the list opens with the chart.
	b.do("follow the Logs link", chromedp.Click(`a[href="/admin/"]`), chromedp.WaitVisible(`#records`), chromedp.WaitVisible(`figure.chart svg`))

	// Query: type into the box, as a person would.
	eval[bool](b, "clear box", `document.getElementById('q').value = '', true`)
	b.do("query",
		chromedp.SendKeys(`#q`, "kind:request since:24h\r"),
		chromedp.WaitVisible(`#records`),
	)
	if !waitFor(b.ctx, 10*time.Second, func() bool { return strings.Contains(b.location(), "q=kind:request since:24h") }) {
		t.Fatalf("the query is not in the URL: %s", b.location())
	}
	// A quick filter writes a term into the box.
	eval[bool](b, "quick filter", `(function(){ var s = document.querySelector('select[name=status]'); s.value = '4xx'; s.dispatchEvent(new Event('change')); return true; })()`)
	if q := eval[string](b, "box", `document.getElementById('q').value`); q != "kind:request since:24h status:4xx" {
		t.Errorf("the quick filter wrote %q", q)
	}
	b.do("search with the filter", chromedp.Click(`#queryform button`))
	if !waitFor(b.ctx, 10*time.Second, func() bool { return strings.Contains(b.location(), "status:4xx") }) || strings.Contains(b.location(), "level=") {
		t.Errorf("after the quick filter: %s", b.location())
	}
	b.open("/admin/?n=15&q=" + url.QueryEscape("kind:request since:24h"))
	b.do("wait list", chromedp.WaitVisible(`#records tr.rec`), chromedp.WaitVisible(`figure.chart svg`))
	b.shot(shots, "admin-list.png", "")
	b.shot(shots, "admin-chart.png", "figure.chart")
	b.clean("list")

	// Request analytics: from the nav, grouped by route, then by status.
	b.do("follow the Requests link", chromedp.Click(`header nav a[href="/admin/requests"]`), chromedp.WaitVisible(`#requests`))
	if n := eval[int](b, "request groups", `document.querySelectorAll('#requests tr.rec').length`); n == 0 {
		t.Error("the Requests page shows no route")
	}
	b.do("latency chart", chromedp.WaitVisible(`svg.latency rect.p99`))
	b.do("group by status", chromedp.Click(`nav.tabs a[href*="by=status"]`), chromedp.WaitVisible(`#requests`))
	if txt := eval[string](b, "status groups", `document.querySelector('#requests tbody').textContent`); !strings.Contains(txt, "2xx") {
		t.Errorf("by status: %q", txt)
	}
	b.open("/admin/requests?by=route&q=" + url.QueryEscape("since:24h"))
	b.do("requests page", chromedp.WaitVisible(`svg.latency`))
	b.shot(shots, "admin-requests.png", "")
	b.do("a route's records", chromedp.Click(`#requests tr.rec a`), chromedp.WaitVisible(`#records tr.rec`))
	if loc := b.location(); !strings.Contains(loc, "route") || !strings.Contains(loc, "kind") {
		t.Errorf("a route links to %s", loc)
	}
	b.clean("requests")

	// A malformed query: a message that names the bad term.
	b.open("/admin/?q=" + url.QueryEscape("level:loud kind:request"))
	if msg := eval[string](b, "error", `document.getElementById('query-error').textContent`); !strings.Contains(msg, "level:loud") {
		t.Errorf("error message %q does not point at the term", msg)
	}
	if sel := eval[string](b, "selected term", `(function(){ var q = document.getElementById('q'); return document.activeElement === q ? q.value.substring(q.selectionStart, q.selectionEnd) : 'not focused'; })()`); sel != "level:loud" {
		t.Errorf("the bad term is not selected in the box: %q", sel)
	}
	// The syntax panel's examples add their term to the box.
	b.open("/admin/?q=" + url.QueryEscape("kind:request"))
	b.do("syntax example", chromedp.Click(`details.syntax summary`), chromedp.Click(`details.syntax a.ex[data-term="status:5xx"]`))
	if q := eval[string](b, "box after example", `document.getElementById('q').value`); q != "kind:request status:5xx" {
		t.Errorf("the example wrote %q", q)
	}

	// Refine by a chart bar: the last bar with records.
	b.open("/admin/?q=" + url.QueryEscape("kind:request since:24h"))
	b.do("wait chart", chromedp.WaitVisible(`figure.chart svg a.bar`)) // it may follow the list
	eval[bool](b, "click a bar", `(function(){
		var bars = Array.from(document.querySelectorAll('a.bar')).filter(function(a){ return a.querySelectorAll('rect').length > 1; });
		var a = bars[bars.length - 2]; a.dispatchEvent(new MouseEvent('click', {bubbles: true})); return true; })()`)
	if !waitFor(b.ctx, 10*time.Second, func() bool { return strings.Contains(b.location(), "until:") }) {
		t.Fatalf("the bar did not narrow the range: %s", b.location())
	}
	b.do("narrowed list", chromedp.WaitVisible(`#records tr.rec`))
	if loc := b.location(); !strings.Contains(loc, "kind:request since:20") {
		t.Errorf("bar link lost the query or kept the relative range: %s", loc)
	}

	// Keyboard: j selects the first row, Enter opens it, Esc goes back.
	b.do("keys", chromedp.KeyEvent("j"), chromedp.KeyEvent("\r"), chromedp.WaitVisible(`h1.rec-title`))
	b.do("esc", chromedp.KeyEvent("\u001b"), chromedp.WaitVisible(`#records`))
	b.do("slash", chromedp.KeyEvent("/"))
	if id := eval[string](b, "focus", `document.activeElement.id`); id != "q" {
		t.Errorf("/ focused %q", id)
	}

	// Detail, then every record of its request.
	b.open("/admin/?q=" + url.QueryEscape("kind:request status:4xx"))
	b.do("open a record", chromedp.Click(`#records tr.rec a.open`), chromedp.WaitVisible(`h1.rec-title`))
	b.do("request link", chromedp.Click(`ul.related a`), chromedp.WaitVisible(`#records tr.rec`))
	if loc := b.location(); !strings.Contains(loc, "q=request:") {
		t.Errorf("the request link went to %s", loc)
	}
	b.clean("detail")

	// A record with attributes, for the picture.
	b.open("/admin/?q=" + url.QueryEscape("kind:audit"))
	b.do("open an audit record", chromedp.Click(`#records tr.rec a.open`), chromedp.WaitVisible(`ul.tree`))
	b.shot(shots, "admin-detail.png", "")

	// Export: the link of the current query, fetched by the page itself.
	b.open("/admin/?q=" + url.QueryEscape("kind:request status:4xx"))
	csv := eval[string](b, "export", `fetch(document.querySelector('a[href*="format=csv"]').href).then(function(r){ return r.text(); })`, chromedp.EvalAwaitPromise)
	if lines := strings.Count(csv, "\n"); lines < 5 || !strings.HasPrefix(csv, "id,time,") {
		t.Errorf("csv export: %d lines, starts %q", lines, csv[:min(40, len(csv))])
	}

	// Save a view; the side panel lists it with its count.
	b.open("/admin/?n=10&q=" + url.QueryEscape("level>=warn"))
	b.do("save view",
		chromedp.SendKeys(`.save-view input[name=name]`, "Warnings and errors"),
		chromedp.Click(`.save-view input[name=shared]`),
		chromedp.Click(`.save-view button`),
		chromedp.WaitVisible(`aside.views li.active`),
	)
	if txt := eval[string](b, "views", `document.querySelector('aside.views li.active').textContent`); !strings.Contains(txt, "Warnings and errors") {
		t.Errorf("saved view: %q", txt)
	}
	b.open("/admin/?n=10&q=" + url.QueryEscape("level>=warn"))
	b.shot(shots, "admin-views.png", "")

	// Live tail: a request made now appears at the top.
	mark := "/tail-" + marker()
	b.open("/admin/?q=" + url.QueryEscape("kind:request path:/tail-*"))
	b.do("start tail", chromedp.Click(`#tail`))
	if !waitFor(b.ctx, 5*time.Second, func() bool {
		return eval[string](b, "state", `document.getElementById('tailstate').textContent`) == "live"
	}) {
		t.Fatal("tail did not start")
	}
	newClient(t, a.URL).get(mark)
	if !waitFor(b.ctx, 20*time.Second, func() bool {
		return strings.Contains(eval[string](b, "rows", `document.querySelector('#records tbody').textContent`), mark)
	}) {
		t.Fatalf("the tailed record %s never appeared", mark)
	}
	b.do("pause", chromedp.Click(`#tail`))
	if st := eval[string](b, "state", `document.getElementById('tailstate').textContent`); !strings.HasPrefix(st, "paused") {
		t.Errorf("pause: %q", st)
	}
	b.clean("tail")

	// Delete by query: the confirmation shows the count, then it is gone.
	b.open("/admin/delete?q=" + url.QueryEscape("path:"+mark))
	if n := eval[string](b, "count", `document.getElementById('delete-count').textContent`); n != "1" {
		t.Errorf("delete count %q, want 1", n)
	}
	b.do("confirm delete", chromedp.Click(`#confirm-delete`), chromedp.WaitVisible(`p.flash`))
	if msg := eval[string](b, "flash", `document.querySelector('p.flash').textContent`); !strings.Contains(msg, "Deleted 1 records") {
		t.Errorf("after delete: %q", msg)
	}
	b.open("/admin/?q=" + url.QueryEscape("path:"+mark))
	if txt := eval[string](b, "after delete", `document.querySelector('#records tbody').textContent`); !strings.Contains(txt, "No records match") {
		t.Errorf("the record survived its deletion")
	}
	b.open("/admin/?q=" + url.QueryEscape("kind:security"))
	if txt := eval[string](b, "security", `document.querySelector('#records tbody').textContent`); !strings.Contains(txt, "logs deleted by query") {
		t.Errorf("no security event for the deletion")
	}

	// Stats and settings.
	b.open("/admin/stats")
	b.do("stats", chromedp.WaitVisible(`form.retention`))
	b.shot(shots, "admin-stats.png", "")
	b.clean("stats")
}

func viewerFlow(t *testing.T, a *app) {
	b := newTab(t, a)
	b.login("viewer@example.com", password)
	b.open("/admin/?q=" + url.QueryEscape("kind:request"))
	b.do("list", chromedp.WaitVisible(`#records tr.rec`))
	if n := eval[int](b, "delete link", `document.querySelectorAll('a.danger').length`); n != 0 {
		t.Errorf("a viewer is offered delete")
	}
	b.open("/admin/delete?q=kind:request")
	if txt := eval[string](b, "refused", `document.querySelector('p.error').textContent`); !strings.Contains(txt, "may not") {
		t.Errorf("viewer delete page: %q", txt)
	}
	b.open("/admin/stats")
	if n := eval[int](b, "settings", `document.querySelectorAll('form.retention').length`); n != 0 {
		t.Errorf("a viewer is offered the settings")
	}
	b.clean("viewer")
}

func plainFlow(t *testing.T, a *app) {
	b := newTab(t, a)
	b.login("plain@example.com", password)
	if n := eval[int](b, "logs link", `document.querySelectorAll('a[href="/admin/"]').length`); n != 0 {
		t.Errorf("a plain user is offered the logs")
	}
	b.open("/admin/")
	if txt := eval[string](b, "refused", `document.querySelector('p.error').textContent`); !strings.Contains(txt, "may not") {
		t.Errorf("plain user: %q", txt)
	}
	// Anonymous visitors get the login page.
	b2 := newTab(t, a)
	b2.open("/admin/?q=kind:request")
	if loc := b2.location(); !strings.HasSuffix(loc, "/login") {
		t.Errorf("anonymous: %s", loc)
	}
}

// hostileFlow shows every page that holds the hostile values and fails on
// any dialog, script error or CSP violation.
func hostileFlow(t *testing.T, a *app) {
	b := newTab(t, a)
	b.login(adminEmail, adminPassword)
	pages := []string{"/admin/?q=hostile", "/admin/?q=" + url.QueryEscape("path:/h2/*"), "/admin/?q=" + url.QueryEscape(payloads[3])}
	b.open(pages[0])
	ids := eval[[]string](b, "ids", `Array.from(document.querySelectorAll('#records tr.rec a.open')).map(function(a){ return a.getAttribute('href'); })`)
	if len(ids) != len(payloads) {
		t.Fatalf("%d hostile records listed, want %d", len(ids), len(payloads))
	}
	pages = append(pages, ids...)
	b.open(pages[1])
	more := eval[[]string](b, "ids", `Array.from(document.querySelectorAll('#records tr.rec a.open')).map(function(a){ return a.getAttribute('href'); })`)
	if len(more) != len(payloads) {
		t.Errorf("%d hostile requests listed, want %d", len(more), len(payloads))
	}
	pages = append(pages, more...)
	for _, p := range pages {
		b.open(p)
		// Open every <details>, so the raw JSON is rendered too.
		eval[bool](b, "details", `document.querySelectorAll('details').forEach(function(d){ d.open = true; }), true`)
		body := eval[string](b, "text", `document.body.innerText`)
		if strings.Contains(p, "/records/") && !strings.Contains(body, "alert(") {
			t.Errorf("%s does not show the payloads as text", p)
		}
		n := eval[int](b, "elements", `document.querySelectorAll('script:not([src]), img, svg [onload], [onerror], a[href^="javascript"]').length`)
		if n != 0 {
			t.Errorf("%s: %d elements made from log values", p, n)
		}
		b.clean(p)
	}
	// The detector works: a page of the app that runs script shows a
	// dialog... not available under the CSP; check the control instead:
	// evaluate an alert and see it recorded.
	eval[bool](b, "control", `setTimeout(function(){ alert("control"); }, 0), true`)
	if !waitFor(b.ctx, 5*time.Second, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.problems) > 0 }) {
		t.Error("the dialog detector missed a control alert")
	}
	b.clear()
}

func cspHeaders(t *testing.T, a *app) {
	c := newClient(t, a.URL)
	c.login(adminEmail, adminPassword)
	for _, p := range []string{"/admin/", "/admin/?q=level:loud", "/admin/stats", "/admin/help", "/admin/nope"} {
		res, _ := c.get(p)
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", p, csp)
		}
	}
}
