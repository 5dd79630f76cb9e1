// Package xss_test renders log records full of stored-XSS payloads in the
// admin UI, in headless Chromium, and checks that no script runs.
package xss_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/admin"
	"github.com/sidelog/sidelog/sqlite"
)

// payloads would run a script if a page put them into HTML, an attribute,
// a URL or a script without escaping.
var payloads = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(2)>`,
	`'><svg onload=alert(3)>`,
	`javascript:alert(4)`,
	`</title><script>alert(5)</script>`,
	`<iframe srcdoc="<script>parent.alert(6)</script>">`,
	"\"onmouseover=alert(7) x=\"",
	`{{7*7}}<a href="javascript:alert(8)">x</a>`,
}

// superuser is an Auth that lets everyone in as a superuser.
type superuser struct{}

func (superuser) User(*http.Request) *admin.User {
	return &admin.User{ID: "1", Name: payloads[1], Role: admin.RoleSuperuser}
}
func (superuser) CSRFToken(*http.Request) string { return "csrf" }
func (superuser) LoginURL(*http.Request) string  { return "/login" }

// names resolves every id to a payload, as a business database might.
type names struct{}

func (names) UserName(context.Context, string) string   { return payloads[2] + " (user)" }
func (names) TenantName(context.Context, string) string { return payloads[0] + " (tenant)" }

func chromiumPath(t *testing.T) string {
	for _, p := range []string{os.Getenv("SIDELOG_CHROMIUM"), "/usr/lib/chromium/chromium", "/usr/bin/chromium"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium: CI must install it")
	}
	t.Skip("no chromium installed")
	return ""
}

// records puts a payload into every text field and into attribute keys
// and values, nested too.
func records(now time.Time) []sidelog.Record {
	var recs []sidelog.Record
	for i, p := range payloads {
		attrs, _ := json.Marshal(map[string]any{p: p, "nested": map[string]any{"k": p, p: []string{p}}, "url": p})
		recs = append(recs, sidelog.Record{
			Time: now.Add(-time.Duration(i+1) * time.Second), Level: 8, Kind: sidelog.KindRequest,
			Logger: p, Message: p, RequestID: "r" + fmt.Sprint(i), TraceID: p, SpanID: p, UserID: p, TenantID: p,
			Method: "GET", Path: "/" + p, Route: p, Status: 500, ClientIP: p, UserAgent: p, Error: p, Attrs: attrs,
		})
	}
	return recs
}

// TestAdminUI_storedXSS opens the list, every detail page, a query for
// each payload, the stats and help pages, with every record carrying
// payloads, and fails on any dialog, console error (a CSP violation is
// one), or element a payload would have created. A control page with a raw
// payload proves the detector sees a script that runs.
func TestAdminUI_storedXSS(t *testing.T) {
	exec := chromiumPath(t)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.WriteBatch(ctx, records(time.Now())); err != nil {
		t.Fatal(err)
	}
	res, err := db.Query(ctx, sidelog.Filter{}, sidelog.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	ui := admin.New(admin.Options{Store: db, Auth: superuser{}, Names: names{}, Prefix: "/admin"})
	mux := http.NewServeMux()
	mux.Handle("/admin/", ui)
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	mux.HandleFunc("/control", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>control</title>"+payloads[1])
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	actx, cancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exec))...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()

	var mu sync.Mutex
	var events []string
	note := func(e string) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	dialogs := chromedp.Events(bctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			note("dialog: " + ev.Message)
			chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	console := chromedp.Console(bctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			// A query the language rejects is answered 400 with the
			// error shown; the browser logs the status, which is no XSS.
			if strings.HasPrefix(m.Text, "Failed to load resource: the server responded with a status of 400") {
				continue
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				note(string(m.Type) + ": " + m.Text)
			}
		}
	}()
	visit := func(path string) []string {
		mu.Lock()
		events = nil
		mu.Unlock()
		err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+path), chromedp.WaitReady("body"), chromedp.Sleep(200*time.Millisecond))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		injected, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('img[src="x"], svg[onload], iframe, [onmouseover], a[href^="javascript:"], script:not([src])').length`))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		mu.Lock()
		defer mu.Unlock()
		out := append([]string(nil), events...)
		if injected > 0 {
			out = append(out, fmt.Sprintf("%d injected elements", injected))
		}
		return out
	}

	if got := visit("/control"); len(got) == 0 {
		t.Fatal("the control page's payload ran unseen: the detector is broken")
	}
	pages := []string{"/admin/", "/admin/stats", "/admin/help", "/admin/delete?q=level:error"}
	for _, r := range res.Records {
		pages = append(pages, fmt.Sprintf("/admin/records/%d", r.ID))
	}
	for _, p := range payloads {
		pages = append(pages, "/admin/?q="+urlQuery(p))
	}
	for _, p := range pages {
		if got := visit(p); len(got) > 0 {
			t.Errorf("%s: %v", p, got)
		}
	}
	t.Logf("visited %d pages", len(pages))
}

func urlQuery(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", "+", "%2B", " ", "+", "\"", "%22", "<", "%3C", ">", "%3E").Replace(`"` + s + `"`)
}
