package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/saas"
	"github.com/sidelog/sidelog/saas/store"
	"github.com/sidelog/sidelog/saas/store/storetest"
	"github.com/sidelog/sidelog/saas/web/webtest"
	"github.com/sidelog/sidelog/sqlite"
)

func TestMain(m *testing.M) {
	saas.PBKDF2Iterations = 1000 // see its doc comment
	os.Exit(m.Run())
}

const (
	adminEmail    = "admin@example.com"
	adminPassword = "admin password 1"
	password      = "correct horse battery"
)

// server is Run serving on a free loopback port in a temporary directory.
type server struct {
	URL    string
	Dir    string
	Env    map[string]string
	Stdout *syncBuffer
	Stderr *syncBuffer // the mails the app prints (devMailbox) among the rest
	cancel context.CancelFunc
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
	w  io.Writer // a pipe the test reads the startup line from
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Write(p)
	s.w.Write(p)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// client returns a browser-like client of the server that reads its mail
// from what the server printed.
func (s *server) client(t *testing.T) *webtest.Client {
	c := webtest.New(t, s.URL)
	c.Mail = func(to string) string { return waitMail(s.Stderr, to) }
	return c
}

// waitMail waits up to 10 seconds for a mail to address in printed (a
// child process's output arrives through a pipe) and returns the newest.
func waitMail(printed *syncBuffer, to string) string {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := mailTo(printed.String(), to); m != "" {
			return m
		}
	}
	return ""
}

// mailTo returns the newest mail to address that the application printed
// (devMailbox), "" when none.
func mailTo(printed, to string) string {
	i := strings.LastIndex(printed, "--- mail to "+to+":")
	if i < 0 {
		return ""
	}
	rest := printed[i:]
	if j := strings.Index(rest, "--- end of mail"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// startServer runs the real application with env on top of a default
// test environment and waits until it listens.
func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{Dir: dir, Env: map[string]string{
		"ADDR":                "127.0.0.1:0",
		"SAAS_DATA_DIR":       filepath.Join(dir, "data"),
		"SAAS_ADMIN_EMAIL":    adminEmail,
		"SAAS_ADMIN_PASSWORD": adminPassword,
	}, done: make(chan error, 1)}
	for k, v := range env {
		s.Env[k] = v
	}
	pr, pw := io.Pipe()
	s.Stdout = &syncBuffer{w: pw}
	s.Stderr = &syncBuffer{w: io.Discard}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		err := Run(ctx, []string{"serve"}, func(k string) string { return s.Env[k] }, nil, s.Stdout, s.Stderr)
		pw.Close()
		s.done <- err
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				urlc <- u
			}
		}
		io.Copy(io.Discard, pr)
		close(urlc)
	}()
	select {
	case u, ok := <-urlc:
		if !ok {
			t.Fatalf("server exited before listening: %v\n%s", <-s.done, s.Stdout)
		}
		s.URL = u
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not start:\n%s", s.Stdout)
	}
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Stop shuts the server down gracefully and fails the test if Run failed.
func (s *server) Stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("server did not shut down")
	}
}

func (s *server) logDB() string { return filepath.Join(s.Env["SAAS_DATA_DIR"], "logs.db") }

func TestE2E(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if dialect == store.Postgres {
				env["DATABASE_URL"] = storetest.PostgresURL(t)
			}
			testE2E(t, startServer(t, env))
		})
	}
}

func testE2E(t *testing.T, s *server) {
	if !strings.Contains(s.Stdout.String(), "created superuser "+adminEmail) {
		t.Errorf("first run did not create the superuser:\n%s", s.Stdout)
	}

	// The seeded superuser sees the demo projects.
	admin := s.client(t)
	admin.Login(adminEmail, adminPassword)
	var list struct{ Projects []webtest.Project }
	if admin.JSON("GET", "/api/projects", nil, &list); len(list.Projects) != 3 {
		t.Errorf("demo projects: got %d, want 3", len(list.Projects))
	}

	alice, bob := s.client(t), s.client(t)
	alice.Signup("alice@example.com", password, "Alice Inc")
	bob.Signup("bob@example.com", password, "Bob Ltd")
	aliceMe, bobMe := alice.Me(), bob.Me()
	org := aliceMe.Memberships[0].OrgID

	// API: create, edit, read.
	var p webtest.Project
	if st := alice.JSON("POST", "/api/projects", map[string]any{"org_id": org, "name": "Apollo", "budget_cents": 100}, &p); st != 201 {
		t.Fatalf("create: %d", st)
	}
	ppath := fmt.Sprint("/api/projects/", p.ID)
	if st := alice.JSON("PUT", ppath, map[string]any{"status": "active"}, &p); st != 200 || p.Status != "active" {
		t.Errorf("update: %d %v", st, p)
	}
	// Pages: create, edit, delete with the forms' CSRF tokens.
	if r := alice.Submit("/projects/new", "/projects", url.Values{"org_id": {fmt.Sprint(org)}, "name": {"<b>Gemini</b>"}, "budget_cents": {"1250"}}); r.Status != 303 {
		t.Fatalf("page create: %d %s", r.Status, r.Body)
	}
	alice.JSON("GET", "/api/projects", nil, &list)
	if len(list.Projects) != 2 || list.Projects[0].Name != "<b>Gemini</b>" {
		t.Fatalf("after page create: %v", list.Projects)
	}
	gem := list.Projects[0].ID
	if r := alice.Submit(fmt.Sprintf("/projects/%d/edit", gem), fmt.Sprint("/projects/", gem), url.Values{"name": {"Gemini 2"}, "status": {"done"}, "budget_cents": {"1300"}}); r.Status != 303 {
		t.Errorf("page edit: %d %s", r.Status, r.Body)
	}
	if page := alice.Get("/projects"); !strings.Contains(page.Body, "Gemini 2") || strings.Contains(page.Body, "<b>") {
		t.Errorf("projects page:\n%s", page.Body)
	}
	csrf := webtest.CSRF(t, alice.Get("/projects").Body)
	if r := alice.PostForm(fmt.Sprintf("/projects/%d/delete", gem), url.Values{}, "forged"); r.Status != 403 {
		t.Errorf("delete with forged token: %d", r.Status)
	}
	if r := alice.PostForm(fmt.Sprintf("/projects/%d/delete", gem), url.Values{}, csrf); r.Status != 303 {
		t.Errorf("page delete: %d", r.Status)
	}

	// Bob cannot reach Alice's project by any route.
	if st := bob.JSON("GET", ppath, nil, nil); st != 404 {
		t.Errorf("bob reads: %d", st)
	}
	if st := bob.JSON("PUT", ppath, map[string]any{"name": "pwned"}, nil); st != 404 {
		t.Errorf("bob updates: %d", st)
	}
	if st := bob.JSON("DELETE", ppath, nil, nil); st != 404 {
		t.Errorf("bob deletes: %d", st)
	}
	if r := bob.Get(fmt.Sprintf("/projects/%d/edit", p.ID)); r.Status != 404 {
		t.Errorf("bob's edit page: %d", r.Status)
	}
	if r := bob.Do("POST", "/api/projects", strings.NewReader(`{"name":`), map[string]string{"Content-Type": "application/json", "X-CSRF-Token": bobMe.CSRFToken}); r.Status != 400 {
		t.Errorf("bad JSON: %d", r.Status)
	}
	if st := alice.JSON("DELETE", ppath, nil, nil); st != 204 {
		t.Errorf("api delete: %d", st)
	}
	anon := s.client(t)
	if r := anon.Get("/healthz"); r.Status != 200 || !strings.Contains(r.Body, `"log_pipeline"`) {
		t.Errorf("healthz: %d %s", r.Status, r.Body)
	}
	if r := anon.Get("/metrics"); r.Status != http.StatusNotFound {
		t.Errorf("metrics are open to everyone: %d", r.Status)
	}

	s.Stop(t) // drains the log pipeline
	checkRequestLog(t, s.logDB(), map[*webtest.Client]string{
		admin: "1", alice: fmt.Sprint(aliceMe.User.ID), bob: fmt.Sprint(bobMe.User.ID), anon: "",
	})
	checkSeparation(t, s)
}

// checkRequestLog finds one request record per request each client made,
// with its status, user and a duration, and checks that every application
// line logged while serving carries the id of one of these requests.
func checkRequestLog(t *testing.T, path string, users map[*webtest.Client]string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := map[string]bool{}
	for c, user := range users {
		for _, ex := range c.Exchanges {
			if ex.Path == "/healthz" || ex.Path == "/metrics" {
				continue // skipped by the middleware's configuration
			}
			if ex.RequestID == "" {
				t.Errorf("%s %s: no X-Request-ID", ex.Method, ex.Path)
				continue
			}
			ids[ex.RequestID] = true
			res, err := db.Query(ctx, sidelog.Filter{RequestID: ex.RequestID, Kinds: []sidelog.Kind{sidelog.KindRequest}}, sidelog.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Records) != 1 {
				t.Errorf("%s %s (%s): %d request records, want 1", ex.Method, ex.Path, ex.RequestID, len(res.Records))
				continue
			}
			r := res.Records[0]
			wantUser := user
			if ex.Path == "/signup" || ex.Path == "/login" && ex.Method == "GET" || ex.Path == "/signup/confirm" && ex.Method == "GET" || user == "" {
				wantUser = "" // not logged in yet
			}
			if ex.Path == "/login" && ex.Method == "POST" || ex.Path == "/signup/confirm" && ex.Method == "POST" {
				wantUser = user // the request that logged them in
			}
			if r.Status != ex.Status || r.Method != ex.Method || r.Path != ex.Path || r.Duration <= 0 || r.UserID != wantUser {
				t.Errorf("%s %s: record status %d method %s path %s duration %v user %q; want status %d user %q",
					ex.Method, ex.Path, r.Status, r.Method, r.Path, r.Duration, r.UserID, ex.Status, wantUser)
			}
			if r.Route == "" || !strings.HasPrefix(r.Route, ex.Method+" ") && !strings.HasPrefix(r.Route, "/") {
				t.Errorf("%s %s: route %q", ex.Method, ex.Path, r.Route)
			}
			if strings.HasPrefix(ex.Path, "/api/projects/") && ex.Status < 300 && r.TenantID == "" {
				t.Errorf("%s %s: no tenant on a request that acted in an organisation", ex.Method, ex.Path)
			}
		}
	}
	var appLines int
	for r, err := range db.Scan(ctx, sidelog.Filter{Logger: "saas.web"}) {
		if err != nil {
			t.Fatal(err)
		}
		appLines++
		if !ids[r.RequestID] {
			t.Errorf("application line %q has request id %q of no request", r.Message, r.RequestID)
		}
	}
	t.Logf("checked %d requests, %d app lines", len(ids), appLines)
	if appLines < 5 {
		t.Errorf("%d application lines from saas.web, want at least 5 (logins, project changes)", appLines)
	}
	n, err := db.Count(ctx, sidelog.Filter{Text: "project created", Kinds: []sidelog.Kind{sidelog.KindApp}})
	if err != nil || n != 2 {
		t.Errorf("project created lines: %d, %v; want 2", n, err)
	}
}

// Tables of each database; neither may hold the other's.
var (
	businessTables = []string{"users", "orgs", "memberships", "sessions", "projects"}
	logTables      = []string{"logs", "segments", "settings", "dict", "msgs", "msgs_fts", "rollup"}
)

func checkSeparation(t *testing.T, s *server) {
	t.Helper()
	ctx := context.Background()
	dsn := s.Env["DATABASE_URL"]
	if dsn == "" {
		dsn = filepath.Join(s.Env["SAAS_DATA_DIR"], "app.db")
	}
	bdb, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	got, err := bdb.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range businessTables {
		if !slices.Contains(got, tbl) {
			t.Errorf("business db lacks %s: %v", tbl, got)
		}
	}
	for _, tbl := range logTables {
		if slices.Contains(got, tbl) {
			t.Errorf("log table %s in the business db", tbl)
		}
	}
	files := []string{s.logDB()}
	segs, _ := filepath.Glob(s.logDB() + ".d/*.db")
	if len(segs) == 0 {
		t.Errorf("no segment files in %s.d/", s.logDB())
	}
	var all []string
	for _, f := range append(files, segs...) {
		tables := sqliteTables(t, f)
		all = append(all, tables...)
		for _, tbl := range businessTables {
			if slices.Contains(tables, tbl) {
				t.Errorf("business table %s in log file %s", tbl, f)
			}
		}
	}
	if !slices.Contains(all, "logs") || !slices.Contains(all, "segments") {
		t.Errorf("log files lack the log tables: %v", all)
	}
}

func sqliteTables(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table'`)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	return names
}

// TestNoLogDBHandle proves that the application's packages cannot reach
// the log database: none of them depends on package sqlite. Only this
// command, which wires the handler, opens it.
func TestNoLogDBHandle(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test=false", "-f", "{{.ImportPath}}", "../../saas/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/sidelog/sidelog/sqlite" {
			t.Errorf("a package under saas/ depends on %s", dep)
		}
	}
	if !strings.Contains(string(out), "github.com/sidelog/sidelog/saas/web") {
		t.Errorf("go list did not list saas/web:\n%s", out)
	}
}

func TestRun_Commands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"SAAS_DATA_DIR": dir}
	getenv := func(k string) string { return env[k] }
	var out strings.Builder
	ctx := context.Background()
	if err := Run(ctx, []string{"migrate"}, getenv, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`applied migrations \[1( \d+)*\]`).MatchString(out.String()) {
		t.Errorf("migrate: %s", out.String())
	}
	out.Reset()
	if err := Run(ctx, []string{"createsuperuser", "-email", "root@example.com"}, getenv, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	m := generatedPassword.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("createsuperuser: %s", out.String())
	}
	pw := m[1]
	db, err := store.Open(ctx, filepath.Join(dir, "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if u, err := db.Authenticate(ctx, "root@example.com", strings.TrimSpace(pw)); err != nil || !u.IsSuperuser {
		t.Errorf("generated password does not log in a superuser: %v %v", u, err)
	}
	if err := Run(ctx, []string{"createsuperuser", "-email", "root@example.com", "-password", "another one"}, getenv, nil, io.Discard, io.Discard); saas.ErrorCode(err) != saas.ECONFLICT {
		t.Errorf("second createsuperuser: %v, want conflict", err)
	}
	for _, args := range [][]string{{"frobnicate"}, {"migrate", "extra"}, {"serve", "-nope"}} {
		if err := Run(ctx, args, getenv, nil, io.Discard, io.Discard); err == nil {
			t.Errorf("Run(%q): no error", args)
		} else if _, ok := err.(usageError); !ok {
			t.Errorf("Run(%q): %v is not a usage error", args, err)
		}
	}
	same := map[string]string{"DATABASE_URL": filepath.Join(dir, "x.db"), "SIDELOG_DB": filepath.Join(dir, "x.db")}
	if err := Run(ctx, []string{"migrate"}, func(k string) string { return same[k] }, nil, io.Discard, io.Discard); err == nil {
		t.Error("one file for both databases: no error")
	}
}

func TestServe_Shutdown(t *testing.T) {
	s := startServer(t, nil)
	c := s.client(t)
	c.Login(adminEmail, adminPassword)
	for range 50 {
		c.JSON("GET", "/api/projects", nil, nil)
	}
	var out strings.Builder
	if err := Run(context.Background(), []string{"healthcheck", "-url", s.URL + "/healthz"}, func(string) string { return "" }, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), `"status":"ok"`) {
		t.Errorf("healthcheck: %v %s", err, out.String())
	}
	s.Stop(t)
	if err := Run(context.Background(), []string{"healthcheck", "-url", s.URL + "/healthz"}, func(string) string { return "" }, nil, io.Discard, io.Discard); err == nil {
		t.Error("healthcheck of a stopped server passed")
	}
	if _, err := http.Get(s.URL + "/healthz"); err == nil {
		t.Error("server still answers after Stop")
	}
	db, err := sqlite.Open(context.Background(), s.logDB(), sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := db.Count(context.Background(), sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindRequest}, Path: "/api/projects"})
	if err != nil || n != 50 {
		t.Errorf("request records after graceful shutdown: %d, %v; want 50 (none lost)", n, err)
	}
	if n, _ := db.Count(context.Background(), sidelog.Filter{Text: "stopped"}); n != 1 {
		t.Errorf("the last line before shutdown (\"stopped\") is missing: %d", n)
	}

	// saas logs runs the sidelog commands on the configured log database.
	getenv := func(k string) string { return s.Env[k] }
	out.Reset()
	if err := Run(context.Background(), []string{"logs", "query", "--format", "json", "--limit", "100", "kind:request", "path:/api/projects"}, getenv, nil, &out, io.Discard); err != nil {
		t.Fatalf("saas logs query: %v", err)
	}
	if lines := strings.Count(out.String(), "\n"); lines != 50 {
		t.Errorf("saas logs query: %d lines, want 50:\n%.500s", lines, out.String())
	}
	// A query that matches nothing says so instead of printing nothing.
	var noOut, noErr bytes.Buffer
	if err := Run(context.Background(), []string{"logs", "query", "kind:request", "path:/no/such/path"}, getenv, nil, &noOut, &noErr); err != nil {
		t.Errorf("saas logs query matching nothing: %v", err)
	}
	if noOut.Len() != 0 || strings.TrimSpace(noErr.String()) != "no records matched" {
		t.Errorf("saas logs query matching nothing: stdout %q, stderr %q; want only \"no records matched\" on stderr", noOut.String(), noErr.String())
	}
	err = Run(context.Background(), []string{"logs", "query", "level:nonsense"}, getenv, nil, io.Discard, io.Discard)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.HasPrefix(ee.line, "saas logs query: ") {
		t.Errorf("bad query: %#v, want exit code 2 and a 'saas logs query:' line", err)
	}
}
