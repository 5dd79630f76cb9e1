package web_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/saas"
	"github.com/sidelog/sidelog/saas/store"
	"github.com/sidelog/sidelog/saas/store/storetest"
	"github.com/sidelog/sidelog/saas/web"
	"github.com/sidelog/sidelog/saas/web/webtest"
)

func TestMain(m *testing.M) {
	saas.PBKDF2Iterations = 1000 // see its doc comment
	os.Exit(m.Run())
}

const password = "correct horse battery"

// env is a server over a fresh SQLite business database with two signed-up
// users in their own organisations.
type env struct {
	db         *store.DB
	mail       *webtest.Mailbox
	srv        *httptest.Server
	alice, bob *webtest.Client
	aliceMe    webtest.Me
	bobMe      webtest.Me
	app        *web.Server
}

func mustEnv(t *testing.T) *env {
	t.Helper()
	db := storetest.MustOpen(t, store.SQLite)
	mail := &webtest.Mailbox{}
	s := web.New(web.Config{
		Users: db, Orgs: db, Sessions: db, Projects: db, Ping: db.Ping, Signups: db, Mail: mail.Send,
		LogStats:     func() handler.Stats { return handler.Stats{Written: 7, QueueDepth: 2} },
		MaxBodyBytes: 4096,
		Logger:       slog.New(slog.DiscardHandler),
	})
	srv := httptest.NewServer(s.CountRequests(s.Handler()))
	t.Cleanup(srv.Close)
	e := &env{db: db, mail: mail, app: s, srv: srv, alice: e2client(t, srv.URL, mail), bob: e2client(t, srv.URL, mail)}
	e.alice.Signup("alice@example.com", password, "Alice Inc")
	e.bob.Signup("bob@example.com", password, "Bob Ltd")
	e.aliceMe, e.bobMe = e.alice.Me(), e.bob.Me()
	return e
}

// e2client is a client that reads its mail from mail.
func e2client(t *testing.T, base string, mail *webtest.Mailbox) *webtest.Client {
	c := webtest.New(t, base)
	c.Mail = mail.Last
	return c
}

func (e *env) mustProject(t *testing.T, c *webtest.Client, org int64, name string) webtest.Project {
	t.Helper()
	var p webtest.Project
	if st := c.JSON("POST", "/api/projects", map[string]any{"org_id": org, "name": name, "budget_cents": 500}, &p); st != http.StatusCreated {
		t.Fatalf("create project: status %d", st)
	}
	return p
}

func TestServer_API(t *testing.T) {
	t.Parallel()
	e := mustEnv(t)
	orgA := e.aliceMe.Memberships[0].OrgID
	p := e.mustProject(t, e.alice, orgA, "Apollo")
	if p.Status != "planned" || p.BudgetCents != 500 || p.OwnerID != e.aliceMe.User.ID {
		t.Errorf("created %+v", p)
	}
	var got webtest.Project
	if st := e.alice.JSON("PUT", fmt.Sprint("/api/projects/", p.ID), map[string]any{"status": "active", "budget_cents": 900}, &got); st != 200 || got.Status != "active" || got.BudgetCents != 900 || got.Name != "Apollo" {
		t.Errorf("update: %d %+v", st, got)
	}
	var list struct{ Projects []webtest.Project }
	if st := e.alice.JSON("GET", "/api/projects", nil, &list); st != 200 || len(list.Projects) != 1 {
		t.Errorf("alice lists: %d %+v", st, list)
	}
	if st := e.bob.JSON("GET", "/api/projects", nil, &list); st != 200 || len(list.Projects) != 0 {
		t.Errorf("bob lists: %d %+v", st, list)
	}

	// Bob may not see, change or delete Alice's project, and may not
	// create one in her organisation: all look like "not found".
	path := fmt.Sprint("/api/projects/", p.ID)
	for _, c := range []struct {
		method string
		body   any
	}{{"GET", nil}, {"PUT", map[string]any{"name": "mine"}}, {"DELETE", nil}} {
		var apiErr webtest.APIError
		if st := e.bob.JSON(c.method, path, c.body, &apiErr); st != 404 || apiErr.Error.Code != "not_found" {
			t.Errorf("bob %s: %d %+v, want 404 not_found", c.method, st, apiErr)
		}
	}
	if st := e.bob.JSON("POST", "/api/projects", map[string]any{"org_id": orgA, "name": "x"}, nil); st != 404 {
		t.Errorf("bob creates in alice's org: %d, want 404", st)
	}
	if r := e.bob.Get(fmt.Sprintf("/projects/%d/edit", p.ID)); r.Status != 404 {
		t.Errorf("bob's edit page: %d, want 404", r.Status)
	}

	// Bob as a member of Alice's organisation sees and edits, but only
	// an owner deletes.
	addBob := fmt.Sprintf("/api/orgs/%d/members", orgA)
	if st := e.bob.JSON("POST", addBob, map[string]any{"email": "bob@example.com"}, nil); st != 404 {
		t.Errorf("bob adds himself to alice's org: %d, want 404", st)
	}
	if st := e.alice.JSON("POST", addBob, map[string]any{"email": "nobody@example.com"}, nil); st != 204 {
		t.Errorf("add unknown user: %d, want 204 (the same as a known one: no account oracle)", st)
	}
	if st := e.alice.JSON("POST", addBob, map[string]any{"email": "bob@example.com", "role": "admin"}, nil); st != 400 {
		t.Errorf("add with bad role: %d, want 400", st)
	}
	if r := e.alice.Submit("/projects", fmt.Sprintf("/orgs/%d/members", orgA), url.Values{"email": {"bob@example.com"}, "role": {"member"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("alice adds bob: %d %s", r.Status, r.Body)
	}
	if st := e.bob.JSON("POST", addBob, map[string]any{"email": "bob@example.com", "role": "owner"}, nil); st != 403 {
		t.Errorf("member makes himself owner: %d, want 403", st)
	}
	if st := e.bob.JSON("GET", path, nil, nil); st != 200 {
		t.Errorf("member gets: %d", st)
	}
	if st := e.bob.JSON("DELETE", path, nil, nil); st != 403 {
		t.Errorf("member deletes: %d, want 403", st)
	}
	if st := e.alice.JSON("DELETE", path, nil, nil); st != 204 {
		t.Errorf("owner deletes: %d, want 204", st)
	}
	if st := e.alice.JSON("GET", path, nil, nil); st != 404 {
		t.Errorf("get deleted: %d, want 404", st)
	}
}

func TestServer_APIHostile(t *testing.T) {
	t.Parallel()
	e := mustEnv(t)
	org := e.aliceMe.Memberships[0].OrgID
	json := map[string]string{"Content-Type": "application/json", "X-CSRF-Token": e.aliceMe.CSRFToken}
	for _, c := range []struct {
		name, method, path, body string
		header                   map[string]string
		want                     int
		code                     string
	}{
		{"bad JSON", "POST", "/api/projects", `{"name": `, json, 400, "invalid"},
		{"not an object", "POST", "/api/projects", `[1,2]`, json, 400, "invalid"},
		{"unknown field", "POST", "/api/projects", fmt.Sprintf(`{"org_id":%d,"name":"x","admin":true}`, org), json, 400, "invalid"},
		{"trailing data", "POST", "/api/projects", fmt.Sprintf(`{"org_id":%d,"name":"x"} {}`, org), json, 400, "invalid"},
		{"huge body", "POST", "/api/projects", `{"name":"` + strings.Repeat("a", 10000) + `"}`, json, 413, "too_large"},
		{"long name", "POST", "/api/projects", fmt.Sprintf(`{"org_id":%d,"name":"%s"}`, org, strings.Repeat("a", 201)), json, 400, "invalid"},
		{"negative budget", "POST", "/api/projects", fmt.Sprintf(`{"org_id":%d,"name":"x","budget_cents":-1}`, org), json, 400, "invalid"},
		{"bad status", "POST", "/api/projects", fmt.Sprintf(`{"org_id":%d,"name":"x","status":"'; DROP TABLE projects;--"}`, org), json, 400, "invalid"},
		{"not JSON", "POST", "/api/projects", `name=x`, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": e.aliceMe.CSRFToken}, 415, "unsupported_media_type"},
		{"no CSRF header", "POST", "/api/projects", `{}`, map[string]string{"Content-Type": "application/json"}, 403, "forbidden"},
		{"forged CSRF header", "POST", "/api/projects", `{}`, map[string]string{"Content-Type": "application/json", "X-CSRF-Token": e.bobMe.CSRFToken}, 403, "forbidden"},
		{"cross-site", "POST", "/api/projects", `{}`, map[string]string{"Content-Type": "application/json", "X-CSRF-Token": e.aliceMe.CSRFToken, "Sec-Fetch-Site": "cross-site"}, 403, "forbidden"},
		{"foreign origin", "DELETE", "/api/projects/1", ``, map[string]string{"X-CSRF-Token": e.aliceMe.CSRFToken, "Origin": "https://evil.example"}, 403, "forbidden"},
		{"bad id", "GET", "/api/projects/abc", ``, nil, 404, "not_found"},
		{"no endpoint", "GET", "/api/nothing", ``, nil, 404, "not_found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.alice.Do(c.method, c.path, strings.NewReader(c.body), c.header)
			if r.Status != c.want || !strings.Contains(r.Body, `"code":"`+c.code+`"`) {
				t.Errorf("got %d %s, want %d %s", r.Status, r.Body, c.want, c.code)
			}
		})
	}
	anon := webtest.New(t, e.srv.URL)
	if st := anon.JSON("GET", "/api/projects", nil, nil); st != 401 {
		t.Errorf("anonymous API: %d, want 401", st)
	}
	// SQL-ish input is data, not code.
	p := e.mustProject(t, e.alice, org, `x'); DROP TABLE projects; --`)
	var got webtest.Project
	if e.alice.JSON("GET", fmt.Sprint("/api/projects/", p.ID), nil, &got); got.Name != `x'); DROP TABLE projects; --` {
		t.Errorf("SQL-ish name: got %q", got.Name)
	}
}

func TestServer_Pages(t *testing.T) {
	t.Parallel()
	e := mustEnv(t)
	c := e.alice
	org := e.aliceMe.Memberships[0].OrgID
	xss := `<script>alert("x")</script>`
	r := c.Submit("/projects/new", "/projects", url.Values{"org_id": {fmt.Sprint(org)}, "name": {xss}, "status": {"active"}, "budget_cents": {"123450"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	list := c.Get("/projects")
	if strings.Contains(list.Body, xss) || !strings.Contains(list.Body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("project name not escaped:\n%s", list.Body)
	}
	if !strings.Contains(list.Body, "1234.50") {
		t.Errorf("budget not shown as 1234.50:\n%s", list.Body)
	}
	var ps struct{ Projects []webtest.Project }
	c.JSON("GET", "/api/projects", nil, &ps)
	if len(ps.Projects) != 1 || ps.Projects[0].BudgetCents != 123450 || ps.Projects[0].Status != "active" {
		t.Fatalf("after create: %+v", ps)
	}
	id := ps.Projects[0].ID
	edit := fmt.Sprintf("/projects/%d/edit", id)
	if r := c.Submit(edit, fmt.Sprint("/projects/", id), url.Values{"name": {"Renamed"}, "status": {"done"}, "budget_cents": {"1200"}}); r.Status != http.StatusSeeOther {
		t.Errorf("update: %d %s", r.Status, r.Body)
	}
	if r := c.Get(edit); !strings.Contains(r.Body, `name="budget_cents" value="1200"`) {
		t.Errorf("edit form does not show budget_cents 1200:\n%s", r.Body)
	}
	// Forms posted by older pages name the amount "budget": still read.
	if r := c.Submit(edit, fmt.Sprint("/projects/", id), url.Values{"name": {"Renamed"}, "status": {"done"}, "budget": {"12.34"}}); r.Status != http.StatusSeeOther {
		t.Errorf("update with the older field: %d %s", r.Status, r.Body)
	}
	var one webtest.Project
	if c.JSON("GET", fmt.Sprint("/api/projects/", id), nil, &one); one.BudgetCents != 1234 {
		t.Errorf("after the older field budget=12.34: budget_cents %d, want 1234", one.BudgetCents)
	}
	if r := c.Submit(edit, fmt.Sprint("/projects/", id), url.Values{"name": {""}, "status": {"done"}, "budget": {"12"}}); r.Status != 400 || !strings.Contains(r.Body, "name is required") {
		t.Errorf("invalid update: %d %s", r.Status, r.Body)
	}
	if r := c.Submit(edit, fmt.Sprint("/projects/", id), url.Values{"name": {"x"}, "budget": {"12.345"}}); r.Status != 400 {
		t.Errorf("bad budget: %d", r.Status)
	}
	if r := c.Submit(edit, fmt.Sprint("/projects/", id), url.Values{"name": {"x"}, "budget_cents": {"12.5"}}); r.Status != 400 || !strings.Contains(r.Body, "whole number of cents") {
		t.Errorf("bad budget_cents: %d", r.Status)
	}
	csrf := webtest.CSRF(t, c.Get("/projects").Body)

	// Forms without the token, with another session's token or with a
	// huge body are refused and change nothing.
	del := fmt.Sprintf("/projects/%d/delete", id)
	for name, r := range map[string]webtest.Response{
		"missing": c.PostForm(del, url.Values{}, ""),
		"forged":  c.PostForm(del, url.Values{}, e.bobMe.CSRFToken),
		"empty":   c.PostForm(del, url.Values{"csrf_token": {""}}, ""),
	} {
		if r.Status != 403 {
			t.Errorf("%s CSRF token: %d, want 403", name, r.Status)
		}
	}
	if r := c.PostForm(del, url.Values{"pad": {strings.Repeat("a", 5000)}}, csrf); r.Status != 413 {
		t.Errorf("huge form: %d, want 413", r.Status)
	}
	if r := e.bob.PostForm(del, url.Values{}, e.bobMe.CSRFToken); r.Status != 404 {
		t.Errorf("bob deletes alice's: %d, want 404", r.Status)
	}
	if r := c.PostForm(del, url.Values{}, csrf); r.Status != http.StatusSeeOther {
		t.Errorf("delete: %d %s", r.Status, r.Body)
	}
	c.JSON("GET", "/api/projects", nil, &ps)
	if len(ps.Projects) != 0 {
		t.Errorf("after delete: %+v", ps)
	}

	// Logging out ends the session on the server.
	if r := c.PostForm("/logout", url.Values{}, csrf); r.Status != http.StatusSeeOther {
		t.Errorf("logout: %d", r.Status)
	}
	if st := c.JSON("GET", "/api/me", nil, nil); st != 401 {
		t.Errorf("after logout: %d, want 401", st)
	}
}

func TestServer_Login(t *testing.T) {
	t.Parallel()
	e := mustEnv(t)
	c := webtest.New(t, e.srv.URL)
	if r := c.Get("/projects"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Errorf("logged out: %d %v", r.Status, r.Header)
	}
	r := c.Submit("/login", "/login", url.Values{"email": {"alice@example.com"}, "password": {"wrong password"}})
	if r.Status != 401 || !strings.Contains(r.Body, "wrong email or password") {
		t.Errorf("wrong password: %d", r.Status)
	}
	if r := c.PostForm("/login", url.Values{"email": {"alice@example.com"}, "password": {password}}, ""); r.Status != 403 {
		t.Errorf("login without CSRF token: %d, want 403", r.Status)
	}
	if r := c.PostForm("/login", url.Values{"email": {"alice@example.com"}, "password": {password}}, "forged-token-forged-token-x"); r.Status != 403 {
		t.Errorf("login with forged CSRF token: %d, want 403", r.Status)
	}
	c = webtest.New(t, e.srv.URL) // a new browser gets a new pre-login cookie
	form := c.Get("/login")
	cookies := strings.Join(form.Header.Values("Set-Cookie"), "\n")
	if !strings.Contains(cookies, "HttpOnly") || !strings.Contains(cookies, "SameSite=Lax") {
		t.Errorf("pre-login cookie flags: %s", cookies)
	}
	r = c.PostForm("/login", url.Values{"email": {"alice@example.com"}, "password": {password}}, webtest.CSRF(t, form.Body))
	set := strings.Join(r.Header.Values("Set-Cookie"), "\n")
	if r.Status != http.StatusSeeOther || !strings.Contains(set, "saas_session=") || !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Lax") {
		t.Errorf("login: %d %s", r.Status, set)
	}
	if c.Me().User.Email != "alice@example.com" {
		t.Error("not logged in as alice")
	}
	// Signing up again with a taken address: the same "check your inbox"
	// (TestSecurity_SignupNoOracle compares the answers), and a note to
	// the owner instead of a link.
	if r := webtest.New(t, e.srv.URL).Submit("/signup", "/signup", url.Values{"email": {"ALICE@example.com"}, "password": {password}}); r.Status != 200 ||
		!strings.Contains(r.Body, "Check your inbox") || strings.Contains(e.mail.Last("alice@example.com"), "/signup/confirm") {
		t.Errorf("duplicate signup: %d, mail %q", r.Status, e.mail.Last("alice@example.com"))
	}
}

func TestServer_SecureCookies(t *testing.T) {
	t.Parallel()
	db := storetest.MustOpen(t, store.SQLite)
	for _, c := range []struct {
		name    string
		trusted []netip.Prefix
		proto   string
		want    bool
	}{
		{"plain HTTP", nil, "", false},
		{"X-Forwarded-Proto from an untrusted peer", nil, "https", false},
		{"X-Forwarded-Proto from a trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "https", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := web.New(web.Config{Users: db, Orgs: db, Sessions: db, Projects: db, TrustedProxies: c.trusted, Logger: slog.New(slog.DiscardHandler)})
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			r := webtest.New(t, srv.URL).Do("GET", "/login", nil, map[string]string{"X-Forwarded-Proto": c.proto})
			if got := strings.Contains(r.Header.Get("Set-Cookie"), "; Secure"); got != c.want {
				t.Errorf("Secure = %v, want %v (%s)", got, c.want, r.Header.Get("Set-Cookie"))
			}
		})
	}
	tlsSrv := httptest.NewTLSServer(web.New(web.Config{Users: db, Orgs: db, Sessions: db, Projects: db, Logger: slog.New(slog.DiscardHandler)}).Handler())
	defer tlsSrv.Close()
	c := webtest.New(t, tlsSrv.URL)
	c.HTTP.Transport = tlsSrv.Client().Transport
	if r := c.Get("/login"); !strings.Contains(r.Header.Get("Set-Cookie"), "; Secure") {
		t.Errorf("over TLS: %s", r.Header.Get("Set-Cookie"))
	}
}

func TestServer_Ops(t *testing.T) {
	t.Parallel()
	e := mustEnv(t)
	c := webtest.New(t, e.srv.URL)
	r := c.Get("/healthz")
	if r.Status != 200 || !strings.Contains(r.Body, `"status":"ok"`) || !strings.Contains(r.Body, `"written":7`) {
		t.Errorf("healthz: %d %s", r.Status, r.Body)
	}
	if r := c.Get("/metrics"); r.Status != http.StatusNotFound {
		t.Errorf("/metrics without Config.Metrics: %d, want 404", r.Status)
	}
	if n := e.app.Requests(2); n < 1 {
		t.Errorf("Requests(2) = %d after a 200", n)
	}
	e.db.Close()
	if r := c.Get("/healthz"); r.Status != 503 || !strings.Contains(r.Body, `"business_db":"unreachable"`) {
		t.Errorf("healthz with db closed: %d %s", r.Status, r.Body)
	}
}

// TestProjectForm_NamesOfTheAPI: the fields of the project form are named
// as the API's JSON names them, so that what a newcomer learns from one
// works in the other.
func TestProjectForm_NamesOfTheAPI(t *testing.T) {
	t.Parallel()
	e := mustEnv(t)
	body := e.alice.Get("/projects/new").Body
	var api map[string]any
	e.alice.JSON("POST", "/api/projects", map[string]any{"org_id": e.aliceMe.Memberships[0].OrgID, "name": "n", "status": "active", "budget_cents": 5}, &api)
	names := regexp.MustCompile(`<(?:input|select)[^>]* name="([a-z_]+)"`).FindAllStringSubmatch(body, -1)
	if len(names) < 4 {
		t.Fatalf("found %d fields in the form:\n%s", len(names), body)
	}
	for _, m := range names {
		if m[1] == "csrf_token" {
			continue
		}
		if _, ok := api[m[1]]; !ok {
			t.Errorf("form field %q is not a field of the API's project %v", m[1], api)
		}
	}
}
