package admin_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/sidelog/sidelog/audit"
)

var historyModels = audit.MustRegistry(audit.Model{Entity: "project", Table: "projects", Key: []string{"id"},
	Sensitive: []string{"secret"}, Tenant: "org_id"})

// business is a business database whose projects are audited into the
// env's log database.
type business struct {
	t  *testing.T
	db *sql.DB
	d  *audit.Deliverer
}

func newBusiness(e *env) *business {
	t := e.t
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "app.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE projects (id INTEGER PRIMARY KEY, org_id INTEGER, name TEXT, status TEXT, secret TEXT)`); err != nil {
		t.Fatal(err)
	}
	if err := historyModels.Install(context.Background(), db, audit.SQLite); err != nil {
		t.Fatal(err)
	}
	return &business{t: t, db: db, d: historyModels.NewDeliverer(db, audit.SQLite, e.db, audit.DeliverOptions{})}
}

// exec runs statements as actor in one transaction and delivers them.
func (b *business) exec(actor audit.Actor, stmts ...string) {
	b.t.Helper()
	ctx := context.Background()
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	defer tx.Rollback()
	if err := audit.SetContext(ctx, tx, audit.SQLite, actor); err != nil {
		b.t.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := tx.Exec(s); err != nil {
			b.t.Fatalf("%s: %v", s, err)
		}
	}
	if err := audit.ClearContext(ctx, tx, audit.SQLite); err != nil {
		b.t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.t.Fatal(err)
	}
	if _, err := b.d.Deliver(ctx); err != nil {
		b.t.Fatal(err)
	}
}

// TestHistory: the change history page shows each change's diff old →
// new, filters by object, actor and time, links to the request, keeps a
// deleted object's last state, never shows a sensitive value, escapes
// every value, and pages.
func TestHistory(t *testing.T) {
	e := newEnv(t)
	b := newBusiness(e)
	alice := audit.Actor{UserID: "42", RequestID: "req-<1>", ClientIP: "192.0.2.7"}
	b.exec(alice, `INSERT INTO projects (id, org_id, name, status, secret) VALUES (1, 7, 'Apollo', 'planned', 'hunter2-secret-value')`)
	b.exec(alice, `UPDATE projects SET name = '<script>alert(1)</script>', status = 'active', secret = 'other-secret-value' WHERE id = 1`)
	b.exec(audit.Actor{Name: "cli:import"}, `INSERT INTO projects (id, org_id, name, status) VALUES (2, 7, 'Gemini', 'done')`)
	b.exec(alice, `DELETE FROM projects WHERE id = 1`)

	// Every change, newest first, for a log viewer.
	r := e.get("viewer", "/admin/history")
	if r.Status != 200 {
		t.Fatalf("history: %d\n%s", r.Status, r.Body)
	}
	if strings.Contains(r.Body, "<script>alert") || !strings.Contains(r.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the payload is not escaped:\n%s", r.Body)
	}
	for _, secret := range []string{"hunter2-secret-value", "other-secret-value"} {
		if strings.Contains(r.Body, secret) {
			t.Errorf("the page shows the sensitive value %q", secret)
		}
	}
	if got := strings.Count(r.Body, `<li class="change`); got != 4 {
		t.Errorf("all changes: %d, want 4", got)
	}
	if i, j := strings.Index(r.Body, "act-delete"), strings.Index(r.Body, "act-create"); i < 0 || j < i {
		t.Errorf("not newest first (delete at %d, first create at %d)", i, j)
	}
	for _, want := range []string{
		`<del>Apollo</del>`, `<ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>`, `<del>planned</del>`, `<ins>active</ins>`,
		`href="/admin/?q=request%3Areq-%3C1%3E"`, // every record of the request
		`Alice &lt;alice@example.com&gt;`,        // the actor's name from the business database
		`href="/admin/history?entity=project&amp;id=1"`, `href="/admin/history?actor=cli%3Aimport"`,
		`changed (sensitive: value not recorded)`, `from 192.0.2.7`, `href="/admin/history">History</a>`,
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("history page lacks %s", want)
		}
	}

	// One object, deleted: its changes and its last state.
	r = e.get("viewer", "/admin/history?entity=project&id=1")
	if r.Status != 200 || strings.Count(r.Body, `<li class="change`) != 3 || !strings.Contains(r.Body, "Deleted as of") ||
		!strings.Contains(r.Body, `<th>status</th><td>active</td>`) || strings.Contains(r.Body, "Gemini") {
		t.Errorf("history of the deleted project 1: %d\n%s", r.Status, r.Body)
	}
	// As of a moment before anything: no change, no state.
	r = e.get("viewer", "/admin/history?entity=project&id=1&until=2000-01-01")
	if r.Status != 200 || strings.Contains(r.Body, `<li class="change`) || strings.Contains(r.Body, "as of") {
		t.Errorf("history until 2000: %d\n%s", r.Status, r.Body)
	}
	// By actor: the command's change only; by user id: alice's three.
	r = e.get("viewer", "/admin/history?actor="+url.QueryEscape("cli:import"))
	if strings.Count(r.Body, `<li class="change`) != 1 || !strings.Contains(r.Body, "Gemini") {
		t.Errorf("by actor cli:import:\n%s", r.Body)
	}
	for _, actor := range []string{"42", "user 42"} {
		r = e.get("viewer", "/admin/history?actor="+url.QueryEscape(actor))
		if strings.Count(r.Body, `<li class="change`) != 3 || strings.Contains(r.Body, "Gemini") {
			t.Errorf("by actor %q: %d changes", actor, strings.Count(r.Body, `<li class="change`))
		}
	}
	// By time: nothing since tomorrow.
	if r = e.get("viewer", "/admin/history?since=2099-01-01"); strings.Contains(r.Body, `<li class="change`) {
		t.Errorf("since 2099: %s", r.Body)
	}
	// The audit record's detail page links to the object's history.
	r = e.get("viewer", "/admin/history?entity=project&id=2")
	i := strings.Index(r.Body, `href="/admin/records/`)
	if i < 0 {
		t.Fatalf("no record link:\n%s", r.Body)
	}
	rec := r.Body[i+len(`href="`):]
	rec = rec[:strings.IndexByte(rec, '"')]
	if d := e.get("viewer", rec); !strings.Contains(d.Body, `href="/admin/history?entity=project&amp;id=2">History of project 2</a>`) {
		t.Errorf("detail %s lacks the history link:\n%s", rec, d.Body)
	}

	// Hostile filters: a clear 400, never a 500.
	for _, q := range []string{"entity=Project", "entity=a%20b", "id=1", "entity=project&id=1%27%20OR%201=1",
		"since=yesterday", "until=%00", "before=-3", "before=x", "actor=" + strings.Repeat("a", 101)} {
		if r := e.get("viewer", "/admin/history?"+q); r.Status != 400 || !strings.Contains(r.Body, `class="error"`) {
			t.Errorf("?%s: %d", q, r.Status)
		}
	}
	// A plain user and a stranger: refused.
	if r := e.get("plain", "/admin/history"); r.Status != 403 || strings.Contains(r.Body, "Apollo") {
		t.Errorf("plain user: %d", r.Status)
	}
}

// TestHistory_Pages: more changes than a page holds are paged by a link,
// without repeating or losing one.
func TestHistory_Pages(t *testing.T) {
	e := newEnv(t)
	b := newBusiness(e)
	var stmts []string
	for i := range 70 {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO projects (id, org_id, name, status) VALUES (%d, 1, 'p%d', 'done')`, i+1, i+1))
	}
	b.exec(audit.Actor{UserID: "5"}, stmts...)
	seen := map[string]bool{}
	path := "/admin/history?entity=project"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		r := e.get("viewer", path)
		for _, part := range strings.Split(r.Body, `class="object">project `)[1:] {
			id := part[:strings.IndexByte(part, '<')]
			if seen[id] {
				t.Errorf("project %s on two pages", id)
			}
			seen[id] = true
		}
		path = ""
		if i := strings.Index(r.Body, `rel="next"`); i >= 0 {
			j := strings.LastIndex(r.Body[:i], `href="`)
			path = strings.ReplaceAll(r.Body[j+len(`href="`):i-2], "&amp;", "&")
		}
	}
	if len(seen) != 70 {
		t.Errorf("pages showed %d projects, want 70", len(seen))
	}
}
