package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sidelog/sidelog/admin"
	"github.com/sidelog/sidelog/saas/store"
	"github.com/sidelog/sidelog/saas/web"
	"github.com/sidelog/sidelog/saas/web/webtest"
)

// routers holds the routers of the servers tests started, by log database.
var routers sync.Map // string → routerPair

type routerPair struct {
	app *web.Server
	ui  *admin.Handler
}

func init() {
	servedHook = func(logDB string, app *web.Server, ui *admin.Handler) {
		routers.Store(logDB, routerPair{app, ui})
	}
}

// roles are the visitors of the route-by-role test, in the order of the
// expectations.
var roles = []string{"anonymous", "user", "log viewer", "superuser"}

// routeStatus is the expected status of each route for each role. The
// privacy work extends it as routes are added; a served route missing
// here fails the test.
var routeStatus = map[string][4]int{
	// the application
	"GET /healthz":                {200, 200, 200, 200},
	"GET /metrics":                {401, 401, 401, 401}, // METRICS_TOKEN, not a session
	"GET /{$}":                    {303, 303, 303, 303},
	"GET /login":                  {200, 200, 200, 200},
	"POST /login":                 {401, 401, 401, 401},
	"GET /signup":                 {200, 200, 200, 200},
	"POST /signup":                {400, 400, 400, 400},
	"GET /signup/confirm":         {404, 404, 404, 404}, // no such sign-up token
	"POST /signup/confirm":        {404, 404, 404, 404},
	"POST /logout":                {303, 303, 303, 303},
	"GET /projects":               {303, 200, 200, 200},
	"GET /projects/new":           {303, 200, 200, 200},
	"POST /projects":              {303, 404, 404, 404},
	"GET /projects/{id}/edit":     {303, 200, 404, 404},
	"POST /projects/{id}":         {303, 303, 404, 404},
	"POST /projects/{id}/delete":  {303, 303, 404, 404},
	"POST /orgs/{id}/members":     {303, 303, 404, 404},
	"GET /api/me":                 {401, 200, 200, 200},
	"POST /api/orgs/{id}/members": {401, 400, 400, 400},
	"GET /api/projects":           {401, 200, 200, 200},
	"POST /api/projects":          {401, 400, 400, 400},
	"GET /api/projects/{id}":      {401, 200, 404, 404},
	"PUT /api/projects/{id}":      {401, 200, 404, 404},
	"DELETE /api/projects/{id}":   {401, 204, 404, 404},
	"/api/":                       {404, 404, 404, 404},
	"GET /orgs/{id}/audit":        {303, 200, 404, 404},
	"GET /api/orgs/{id}/audit":    {401, 200, 404, 404},
	"GET /users":                  {303, 404, 404, 200},
	"POST /users/{id}/logviewer":  {303, 404, 404, 303},
	"/admin/":                     {303, 404, 404, 404}, // an unknown admin path
	"GET /admin":                  {301, 301, 301, 301},
	// the admin UI, mounted under /admin/
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

// TestRoutesByRole requests every route the application's router and the
// admin UI's router serve, as an anonymous visitor, a plain user, a log
// viewer and a superuser, and checks each status.
func TestRoutesByRole(t *testing.T) {
	s := startServer(t, map[string]string{"METRICS_TOKEN": "a token no role has"})
	v, ok := routers.Load(s.logDB())
	if !ok {
		t.Fatal("the server did not report its routers")
	}
	rp := v.(routerPair)
	var routes []string
	routes = append(routes, rp.app.Routes()...)
	for _, r := range rp.ui.Routes() {
		routes = append(routes, r.Method+" "+r.Pattern)
	}

	// The plain user owns a project; the viewer holds the grant.
	plain := s.client(t)
	plain.Signup("pat@example.com", password, "Pat's")
	me := plain.Me()
	org := me.Memberships[0].OrgID
	s.client(t).Signup("vic@example.com", password, "Vic's")
	bdb, err := store.Open(context.Background(), filepath.Join(s.Env["SAAS_DATA_DIR"], "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	vic, err := bdb.FindUserByEmail(context.Background(), "vic@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.SetLogViewer(context.Background(), vic.ID, true); err != nil {
		t.Fatal(err)
	}
	// A record to open: from the list, once the pipeline has written one.
	su := s.client(t)
	su.Login(adminEmail, adminPassword)
	var record int64
	for deadline := time.Now().Add(10 * time.Second); record == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := regexp.MustCompile(`/admin/records/(\d+)`).FindStringSubmatch(su.Get("/admin/").Body); m != nil {
			record, _ = strconv.ParseInt(m[1], 10, 64)
		}
	}
	if record == 0 {
		t.Fatal("no record in the list")
	}
	ids := routeIDs{record: record, org: org, user: vic.ID}
	login := map[string]string{"user": "pat@example.com", "log viewer": "vic@example.com", "superuser": adminEmail}

	seen := map[string]bool{}
	for _, route := range routes {
		seen[route] = true
		want, ok := routeStatus[route]
		if !ok {
			t.Errorf("route %q has no expected statuses: add it to routeStatus", route)
			continue
		}
		for i, role := range roles {
			// A project per request, so that deleting one does not
			// change what the next role sees.
			var p webtest.Project
			plain.JSON("POST", "/api/projects", map[string]any{"org_id": org, "name": "P"}, &p)
			c := s.client(t)
			csrf := webtest.CSRF(t, c.Get("/login").Body)
			if role != "anonymous" {
				pw := password
				if role == "superuser" {
					pw = adminPassword
				}
				c.Login(login[role], pw)
				csrf = c.Me().CSRFToken
			}
			ids.project = p.ID
			got := requestRoute(t, c, route, csrf, ids)
			if got != want[i] {
				t.Errorf("%s as %s: status %d, want %d", route, role, got, want[i])
			}
		}
	}
	for route := range routeStatus {
		if !seen[route] {
			t.Errorf("routeStatus lists %q, which is not served", route)
		}
	}
}

// routeIDs are the ids that fill the routes' {id}.
type routeIDs struct{ project, org, user, record int64 }

// requestRoute makes a request that the route serves, with ids that exist
// and the client's CSRF token, and returns the status.
func requestRoute(t *testing.T, c *webtest.Client, route, csrf string, ids routeIDs) int {
	t.Helper()
	method, pattern, ok := strings.Cut(route, " ")
	if !ok {
		method, pattern = "GET", route
	}
	path := strings.NewReplacer("{$}", "", "{id}", "ID").Replace(pattern)
	id := ids.project
	switch {
	case strings.HasPrefix(path, "/orgs/"), strings.HasPrefix(path, "/api/orgs/"):
		id = ids.org
	case strings.HasPrefix(path, "/users/"):
		id = ids.user
	case strings.HasPrefix(path, "/admin/records/"):
		id = ids.record
	}
	path = strings.Replace(path, "ID", fmt.Sprint(id), 1)
	switch pattern {
	case "/api/":
		path = "/api/nope"
	case "/admin/":
		path = "/admin/nope"
	case "/admin/static/":
		path = "/admin/static/admin.css"
	case "/admin/tail", "/admin/delete", "/admin/export":
		path += "?q=" + url.QueryEscape("level:debug since:1s")
	case "/admin/views/{id}/delete":
		path = "/admin/views/nosuchview/delete"
	}
	form := url.Values{"q": {"nosuchword since:1s"}, "name": {"n"}, "info": {"30"}, "grant": {"1"}, "email": {"x"}, "password": {"y"}, "role": {"member"}}
	switch {
	case pattern == "/admin/tail":
		// The stream never ends: take the status and hang up.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", c.Base+path, nil)
		res, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		res.Body.Close()
		return res.StatusCode
	case strings.HasPrefix(path, "/api/") && method != "GET":
		return c.Do(method, path, strings.NewReader(`{"status":"done"}`), map[string]string{"Content-Type": "application/json", "X-CSRF-Token": csrf}).Status
	case method == "GET":
		return c.Get(path).Status
	}
	return c.PostForm(path, form, csrf).Status
}
