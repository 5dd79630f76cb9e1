package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog/saas/store"
	"github.com/sidelog/sidelog/saas/store/storetest"
	"github.com/sidelog/sidelog/saas/web/webtest"
)

type auditPage struct {
	Changes []struct {
		ID        int64             `json:"id"`
		Actor     string            `json:"actor"`
		RequestID string            `json:"request_id"`
		ClientIP  string            `json:"client_ip"`
		Entity    string            `json:"entity"`
		EntityID  string            `json:"entity_id"`
		Action    string            `json:"action"`
		Diff      map[string][2]any `json:"diff"`
	} `json:"changes"`
}

// waitAudit reads the organisation's audit log until it has at least n
// changes: delivery from the outbox is asynchronous.
func waitAudit(t *testing.T, c *webtest.Client, org int64, n int) auditPage {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var p auditPage
		if st := c.JSON("GET", fmt.Sprintf("/api/orgs/%d/audit", org), nil, &p); st != 200 {
			t.Fatalf("GET audit of org %d: %d", org, st)
		}
		if len(p.Changes) >= n || time.Now().After(deadline) {
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAudit_OrgLog: an organisation's owners read its audit log over
// HTTP; another organisation's owner, a plain member and a visitor cannot.
func TestAudit_OrgLog(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if dialect == store.Postgres {
				env["DATABASE_URL"] = storetest.PostgresURL(t)
			}
			testOrgAuditLog(t, startServer(t, env))
		})
	}
}

func testOrgAuditLog(t *testing.T, s *server) {
	alice, bob, carol := s.client(t), s.client(t), s.client(t)
	alice.Signup("alice@example.com", password, "Alice Inc")
	bob.Signup("bob@example.com", password, "Bob Ltd")
	carol.Signup("carol@example.com", password, "Carol Co")
	aliceMe, bobMe, carolMe := alice.Me(), bob.Me(), carol.Me()
	orgA, orgB := aliceMe.Memberships[0].OrgID, bobMe.Memberships[0].OrgID

	var p webtest.Project
	if st := alice.JSON("POST", "/api/projects", map[string]any{"org_id": orgA, "name": "Apollo", "budget_cents": 100}, &p); st != 201 {
		t.Fatalf("create: %d", st)
	}
	if st := alice.JSON("PUT", fmt.Sprint("/api/projects/", p.ID), map[string]any{"name": "Apollo 2"}, nil); st != 200 {
		t.Fatalf("update: %d", st)
	}
	if st := alice.JSON("POST", fmt.Sprintf("/api/orgs/%d/members", orgA), map[string]any{"email": "carol@example.com"}, nil); st != 204 {
		t.Fatalf("add carol: %d", st)
	}
	if st := bob.JSON("POST", "/api/projects", map[string]any{"org_id": orgB, "name": "Bobs secret plan"}, nil); st != 201 {
		t.Fatalf("bob's project: %d", st)
	}

	// org create, alice's membership, project create + update, carol's membership
	log := waitAudit(t, alice, orgA, 5)
	if len(log.Changes) != 5 {
		t.Fatalf("alice's org log: %d changes, want 5: %+v", len(log.Changes), log.Changes)
	}
	upd := log.Changes[1]
	if upd.Action != "update" || upd.Entity != "project" || fmt.Sprint(upd.Diff["name"]) != "[Apollo Apollo 2]" ||
		upd.Actor != fmt.Sprint("user ", aliceMe.User.ID) || upd.RequestID == "" || upd.ClientIP != "127.0.0.1" {
		t.Errorf("project update as the owner reads it: %+v", upd)
	}
	for _, ch := range log.Changes {
		if strings.Contains(fmt.Sprint(ch.Diff), "Bobs secret plan") {
			t.Errorf("alice sees bob's organisation's change: %+v", ch)
		}
	}
	page := alice.Get(fmt.Sprintf("/orgs/%d/audit", orgA))
	if page.Status != 200 || !strings.Contains(page.Body, "Apollo 2") || !strings.Contains(page.Body, "<del>Apollo</del>") {
		t.Errorf("audit page: %d\n%s", page.Status, page.Body)
	}

	// Another organisation's owner, by page and by API: not found.
	for _, path := range []string{fmt.Sprintf("/orgs/%d/audit", orgA), fmt.Sprintf("/api/orgs/%d/audit", orgA)} {
		if r := bob.Get(path); r.Status != 404 || strings.Contains(r.Body, "Apollo") {
			t.Errorf("bob GET %s: %d %s", path, r.Status, r.Body)
		}
	}
	// A member of the organisation who is not an owner: forbidden.
	if r := carol.Get(fmt.Sprintf("/api/orgs/%d/audit", orgA)); r.Status != 403 || strings.Contains(r.Body, "Apollo") {
		t.Errorf("carol (member) reads alice's org log: %d %s", r.Status, r.Body)
	}
	// Logged out: no page. Bad ids: not found.
	anon := s.client(t)
	if r := anon.Get(fmt.Sprintf("/api/orgs/%d/audit", orgA)); r.Status != 401 {
		t.Errorf("anonymous: %d", r.Status)
	}
	for _, path := range []string{"/api/orgs/x/audit", "/api/orgs/-1/audit", "/api/orgs/99999/audit"} {
		if r := alice.Get(path); r.Status != 404 {
			t.Errorf("alice GET %s: %d", path, r.Status)
		}
	}
	if r := alice.Get(fmt.Sprintf("/api/orgs/%d/audit?before=abc", orgA)); r.Status != 400 {
		t.Errorf("bad before: %d", r.Status)
	}
	if bobLog := waitAudit(t, bob, orgB, 3); len(bobLog.Changes) != 3 || strings.Contains(fmt.Sprint(bobLog), "Apollo") {
		t.Errorf("bob's own org log: %+v", bobLog)
	}

	// The admin UI's history page: the project's changes old → new, with
	// a link to the request that made each, for a superuser.
	su := s.client(t)
	su.Login(adminEmail, adminPassword)
	hist := su.Get(fmt.Sprintf("/admin/history?entity=project&id=%d", p.ID))
	if hist.Status != 200 || !strings.Contains(hist.Body, "<del>Apollo</del>") || !strings.Contains(hist.Body, "<ins>Apollo 2</ins>") ||
		!strings.Contains(hist.Body, `href="/admin/?q=request%3A`+upd.RequestID+`"`) {
		t.Errorf("admin history of project %d: %d\n%s", p.ID, hist.Status, hist.Body)
	}

	// After the server stopped, the chain over everything verifies and
	// the history names carol's membership in her own history too.
	s.Stop(t)
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"logs", "audit", "verify"}, func(k string) string { return s.Env[k] }, nil, &out, io.Discard); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out.String())
	}
	out.Reset()
	args := []string{"logs", "audit", "history", "user", fmt.Sprint(carolMe.User.ID)}
	if err := Run(context.Background(), args, func(k string) string { return s.Env[k] }, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("create membership %d:%d by user %d", orgA, carolMe.User.ID, aliceMe.User.ID); !strings.Contains(out.String(), want) {
		t.Errorf("carol's history lacks %q:\n%s", want, out.String())
	}
	testHeadInBusinessDB(t, s)
}

// testHeadInBusinessDB: the server kept the chain's head in the business
// database; removing the newest ten chained records from the log files
// (which leaves a shorter chain that verifies on its own) fails `saas logs
// audit verify`, which checks against that head.
func testHeadInBusinessDB(t *testing.T, s *server) {
	ctx := context.Background()
	getenv := func(k string) string { return s.Env[k] }
	cfg, err := loadConfig(getenv)
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	kept, err := bdb.ChainHead(ctx)
	if err != nil {
		t.Fatalf("no head in the business database: %v", err)
	}
	var out, errOut bytes.Buffer
	if err := Run(ctx, []string{"logs", "audit", "head"}, getenv, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != kept.String() {
		t.Fatalf("head kept in the business database %s, log database's head %s", kept, got)
	}
	removed := 0
	for _, f := range dayFiles(t, cfg.LogDB) {
		raw, err := sql.Open("sqlite", f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := raw.Exec(`DELETE FROM logs WHERE chain_seq > ?`, kept.Seq-10)
		if err != nil {
			t.Fatalf("tamper with %s: %v", f, err)
		}
		n, _ := res.RowsAffected()
		removed += int(n)
		raw.Close()
	}
	if removed != 10 {
		t.Fatalf("removed %d chained records, want 10", removed)
	}
	out.Reset()
	err = Run(ctx, []string{"logs", "audit", "verify"}, getenv, nil, &out, &errOut)
	if err == nil || !strings.Contains(out.String(), "the newest 10 records were removed") ||
		!strings.Contains(errOut.String(), "head kept in the business database") {
		t.Fatalf("verify after removing the newest 10 records: %v\n%s\n%s", err, out.String(), errOut.String())
	}
}

// dayFiles returns the log database's day files.
func dayFiles(t *testing.T, catalog string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(catalog+".d", "*.db"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no day files beside %s: %v", catalog, err)
	}
	return files
}
