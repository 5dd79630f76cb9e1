package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/saas"
	"github.com/sidelog/sidelog/saas/store"
	"github.com/sidelog/sidelog/saas/store/storetest"
	"github.com/sidelog/sidelog/sqlite"
)

// auditRig is a business database with its audit outbox delivered into a
// log database.
type auditRig struct {
	db    *store.DB
	logs  *sqlite.DB
	path  string
	d     *audit.Deliverer
	count int // changes seen so far by take
}

func newAuditRig(t *testing.T, dialect string) *auditRig {
	t.Helper()
	return newAuditRigAt(t, storetest.URL(t, dialect))
}

// newAuditRigAt opens (and migrates) the business database at url.
func newAuditRigAt(t *testing.T, url string) *auditRig {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := &auditRig{db: db, path: filepath.Join(t.TempDir(), "logs.db")}
	logs, err := sqlite.Open(context.Background(), r.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logs.Close() })
	r.logs = logs
	r.d = r.db.AuditDeliverer(logs, audit.DeliverOptions{})
	return r
}

// take delivers the outbox and returns the changes recorded since the last
// call, oldest first.
func (r *auditRig) take(t *testing.T) []audit.Change {
	t.Helper()
	if _, err := r.d.Deliver(context.Background()); err != nil {
		t.Fatal(err)
	}
	all := allChanges(t, r.logs)
	out := all[r.count:]
	r.count = len(all)
	return out
}

func allChanges(t *testing.T, logs sidelog.Reader) []audit.Change {
	t.Helper()
	var out []audit.Change
	for rec, err := range logs.Scan(context.Background(), sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindAudit}}) {
		if err != nil {
			t.Fatal(err)
		}
		ch, ok := audit.ChangeOf(rec)
		if !ok {
			t.Fatalf("audit record %d without a change: %s", rec.ID, rec.Attrs)
		}
		out = append(out, ch)
	}
	return out
}

// want describes one expected change; Diff lists the fields that must be in
// the diff with their [old, new] rendered by fmt.
type want struct {
	entity, id, action, actor, request string
	diff                               map[string]string
	refs                               []string
}

func (r *auditRig) expect(t *testing.T, what string, ws ...want) {
	t.Helper()
	got := r.take(t)
	if len(got) != len(ws) {
		t.Fatalf("%s: got %d changes, want %d: %+v", what, len(got), len(ws), got)
	}
	for i, w := range ws {
		g := got[i]
		if g.Entity != w.entity || g.EntityID != w.id || g.Action != w.action || g.Actor != w.actor || g.RequestID != w.request {
			t.Errorf("%s #%d: got %s %s %s by %q req %q, want %s %s %s by %q req %q", what, i,
				g.Action, g.Entity, g.EntityID, g.Actor, g.RequestID, w.action, w.entity, w.id, w.actor, w.request)
		}
		for f, d := range w.diff {
			gd, ok := g.Diff[f]
			if s := fmt.Sprint(gd[0], " -> ", gd[1]); !ok || s != d {
				t.Errorf("%s #%d: diff[%s] = %s (present %v), want %s", what, i, f, s, ok, d)
			}
		}
		if w.diff != nil && w.action == audit.ActionUpdate && len(g.Diff) != len(w.diff) {
			t.Errorf("%s #%d: diff %v, want exactly the fields %v", what, i, g.Diff, w.diff)
		}
		if fmt.Sprint(g.Refs) != fmt.Sprint(w.refs) {
			t.Errorf("%s #%d: refs %v, want %v", what, i, g.Refs, w.refs)
		}
	}
}

func TestAudit(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			testAuditModels(t, dialect)
		})
	}
}

func testAuditModels(t *testing.T, dialect string) {
	r := newAuditRig(t, dialect)
	ctx := context.Background()
	const password = "correct horse battery staple"

	// Outside a request: a command names itself.
	cli := audit.WithActor(ctx, audit.Actor{Name: "cli:createsuperuser"})
	alice := &saas.User{Email: "alice@example.com", Name: "Alice", IsSuperuser: true}
	if err := r.db.CreateUser(cli, alice, password); err != nil {
		t.Fatal(err)
	}
	aid := strconv.FormatInt(alice.ID, 10)
	r.expect(t, "create user", want{entity: "user", id: aid, action: "create", actor: "cli:createsuperuser",
		diff: map[string]string{"email": "<nil> -> alice@example.com", "name": "<nil> -> Alice", "password_hash": "<nil> -> " + audit.Redacted}})

	// In a request: the user and request id come from the context.
	bob := &saas.User{Email: "bob@example.com"}
	if err := r.db.CreateUser(ctx, bob, password); err != nil {
		t.Fatal(err)
	}
	bid := strconv.FormatInt(bob.ID, 10)
	r.take(t)
	asAlice := sidelog.WithRequest(saas.NewContext(ctx, alice), "req-1")
	org := &saas.Org{Name: "Acme"}
	if err := r.db.CreateOrg(asAlice, org, alice.ID); err != nil {
		t.Fatal(err)
	}
	oid := strconv.FormatInt(org.ID, 10)
	r.expect(t, "create org",
		want{entity: "org", id: oid, action: "create", actor: "user " + aid, request: "req-1", diff: map[string]string{"name": "<nil> -> Acme"}},
		want{entity: "membership", id: oid + ":" + aid, action: "create", actor: "user " + aid, request: "req-1",
			diff: map[string]string{"role": "<nil> -> owner"}, refs: []string{"org " + oid, "user " + aid}})

	if err := r.db.AddMember(asAlice, org.ID, bob.ID, saas.RoleMember); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "add member", want{entity: "membership", id: oid + ":" + bid, action: "create", actor: "user " + aid, request: "req-1",
		diff: map[string]string{"role": "<nil> -> member"}, refs: []string{"org " + oid, "user " + bid}})
	if err := r.db.AddMember(asAlice, org.ID, bob.ID, saas.RoleOwner); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "change role", want{entity: "membership", id: oid + ":" + bid, action: "update", actor: "user " + aid, request: "req-1",
		diff: map[string]string{"role": "member -> owner"}, refs: []string{"org " + oid, "user " + bid}})
	if err := r.db.AddMember(asAlice, org.ID, bob.ID, saas.RoleOwner); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "same role again (no-op)")

	p := &saas.Project{OrgID: org.ID, Name: "Launch", BudgetCents: 100}
	if err := r.db.CreateProject(asAlice, p); err != nil {
		t.Fatal(err)
	}
	pid := strconv.FormatInt(p.ID, 10)
	r.expect(t, "create project", want{entity: "project", id: pid, action: "create", actor: "user " + aid, request: "req-1",
		diff: map[string]string{"name": "<nil> -> Launch", "budget_cents": "<nil> -> 100", "status": "<nil> -> planned"}, refs: []string{"org " + oid}})

	name, status := "Launch v2", saas.StatusActive
	if _, err := r.db.UpdateProject(asAlice, p.ID, saas.ProjectUpdate{Name: &name, Status: &status}); err != nil {
		t.Fatal(err)
	}
	upd := r.take(t)
	if len(upd) != 1 || fmt.Sprint(upd[0].Diff["name"]) != "[Launch Launch v2]" || fmt.Sprint(upd[0].Diff["status"]) != "[planned active]" ||
		upd[0].Diff["budget_cents"] != [2]any{} && len(upd[0].Diff) != 3 {
		t.Errorf("update project: got %+v", upd)
	}
	if _, ok := upd[0].Diff["updated_at"]; !ok {
		t.Errorf("update project: updated_at missing beside real changes: %v", upd[0].Diff)
	}
	// A save with the same values changes only updated_at: no record.
	if _, err := r.db.UpdateProject(asAlice, p.ID, saas.ProjectUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "no-op save")

	// A rolled-back change leaves no record.
	err := r.db.InTx(asAlice, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`UPDATE projects SET name = 'rolled back' WHERE id = $1`, p.ID); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("InTx: want the error back")
	}
	r.expect(t, "rolled back")

	// Sensitive fields: recorded as changed, never with values.
	if err := r.db.SetPassword(asAlice, bob.ID, "another secret password"); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "set password", want{entity: "user", id: bid, action: "update", actor: "user " + aid, request: "req-1",
		diff: map[string]string{"password_hash": audit.Redacted + " -> " + audit.Redacted}})
	if err := r.db.SetSuperuser(asAlice, bob.ID, true); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "superuser grant", want{entity: "user", id: bid, action: "update", actor: "user " + aid, request: "req-1",
		diff: map[string]string{"is_superuser": map[string]string{store.Postgres: "false -> true", store.SQLite: "0 -> 1"}[dialect]}})

	// The log viewer grant and its removal; granting twice is a no-op.
	for _, grant := range []bool{true, true, false} {
		if err := r.db.SetLogViewer(asAlice, bob.ID, grant); err != nil {
			t.Fatal(err)
		}
	}
	gotGrant := r.take(t)
	if len(gotGrant) != 2 || gotGrant[0].Action != "create" || gotGrant[1].Action != "delete" ||
		gotGrant[0].Entity != "log_viewer" || gotGrant[0].EntityID != bid || gotGrant[0].Actor != "user "+aid ||
		gotGrant[0].RequestID != "req-1" || fmt.Sprint(gotGrant[0].Refs) != "[user "+bid+"]" {
		t.Errorf("log viewer grant and removal: %+v", gotGrant)
	}

	if err := r.db.RemoveMember(asAlice, org.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "remove member", want{entity: "membership", id: oid + ":" + bid, action: "delete", actor: "user " + aid, request: "req-1",
		diff: map[string]string{"role": "owner -> <nil>"}, refs: []string{"org " + oid, "user " + bid}})

	if err := r.db.DeleteProject(asAlice, p.ID); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "delete project", want{entity: "project", id: pid, action: "delete", actor: "user " + aid, request: "req-1",
		diff: map[string]string{"name": "Launch v2 -> <nil>", "status": "active -> <nil>"}, refs: []string{"org " + oid}})

	// A write outside the application (psql, sqlite3) is captured too, with
	// an unknown actor.
	if _, err := r.db.SQLDB().Exec(`UPDATE orgs SET name = 'Acme Inc' WHERE id = $1`, org.ID); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "raw write", want{entity: "org", id: oid, action: "update", actor: "unknown", diff: map[string]string{"name": "Acme -> Acme Inc"}})

	// History: the membership changes are in both the user's and the
	// organisation's history, newest first.
	hist, err := audit.History(ctx, r.logs, audit.HistoryQuery{Entity: "user", ID: bid})
	if err != nil {
		t.Fatal(err)
	}
	var seq []string
	for _, h := range hist {
		seq = append(seq, h.Action+" "+h.Entity)
	}
	if got, want := fmt.Sprint(seq), "[delete membership delete log_viewer create log_viewer update user update user update membership create membership create user]"; got != want {
		t.Errorf("bob's history: %s, want %s", got, want)
	}
	hist, err = audit.History(ctx, r.logs, audit.HistoryQuery{Entity: "org", ID: oid})
	if err != nil {
		t.Fatal(err)
	}
	// org create and rename, alice's membership, bob's three, the
	// project's three (projects name their organisation).
	if len(hist) != 9 {
		t.Errorf("org history: %d changes, want 9: %+v", len(hist), hist)
	}
	own, err := audit.History(ctx, r.logs, audit.HistoryQuery{Entity: "org", ID: oid, Own: true})
	if err != nil || len(own) != 2 || own[0].Diff["name"] != [2]any{"Acme", "Acme Inc"} {
		t.Errorf("org's own history: %+v, %v", own, err)
	}

	// Nothing sensitive in any file of the log database, WAL included.
	hash := rawPasswordHash(t, r.db, bob.ID)
	for _, secret := range []string{password, "another secret password", hash} {
		grepLogFiles(t, r.path, secret)
	}
}

func rawPasswordHash(t *testing.T, db *store.DB, id int64) string {
	t.Helper()
	var h string
	if err := db.SQLDB().QueryRow(`SELECT password_hash FROM users WHERE id = $1`, id).Scan(&h); err != nil {
		t.Fatal(err)
	}
	if len(h) < 20 {
		t.Fatalf("password hash %q too short to grep for", h)
	}
	return h
}

// grepLogFiles fails when secret occurs in any file of the log database:
// the catalog, the day files, their WAL and shared-memory files.
func grepLogFiles(t *testing.T, catalog, secret string) {
	t.Helper()
	files, _ := filepath.Glob(catalog + "*")
	more, _ := filepath.Glob(filepath.Join(catalog+".d", "*"))
	files = append(files, more...)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			continue // a directory
		}
		n++
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s contains the secret %.12q…", f, secret)
		}
	}
	if n < 3 {
		t.Errorf("grep saw only %d files: %v", n, files)
	}
}

// TestAudit_Bulk: one UPDATE (and one DELETE) of 1,000 rows gives 1,000
// records, one per row: the triggers fire per row, whatever the statement.
// (100 rows under -race, see race_test.go.)
func TestAudit_Bulk(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			r := newAuditRig(t, dialect)
			ctx := context.Background()
			u := &saas.User{Email: "owner@example.com"}
			if err := r.db.CreateUser(ctx, u, "correct horse battery"); err != nil {
				t.Fatal(err)
			}
			as := sidelog.WithRequest(saas.NewContext(ctx, u), "bulk-req")
			org := &saas.Org{Name: "Bulk"}
			if err := r.db.CreateOrg(as, org, u.ID); err != nil {
				t.Fatal(err)
			}
			const n = bulkRows
			err := r.db.InTx(as, func(tx *sql.Tx) error {
				_, err := tx.Exec(`INSERT INTO projects (org_id, name, status, budget_cents, owner_id, created_at, updated_at)
					SELECT $1, 'p' || g, 'done', g, $2, $3, $3 FROM `+map[string]string{
					store.Postgres: `generate_series(1, $4) AS g`,
					store.SQLite:   `(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < $4) SELECT g FROM s)`,
				}[dialect], org.ID, u.ID, r.db.Now().UTC(), n)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.take(t); len(got) != n+3 { // user, org, membership, 1000 projects
				t.Fatalf("bulk insert: %d changes, want %d", len(got), n+3)
			}
			changed, err := r.db.ArchiveProjects(as, org.ID, saas.StatusDone)
			if err != nil || changed != n {
				t.Fatalf("archive: %d, %v", changed, err)
			}
			got := r.take(t)
			ids := map[string]bool{}
			for _, ch := range got {
				if ch.Action != "update" || ch.Entity != "project" || fmt.Sprint(ch.Diff["status"]) != "[done archived]" ||
					ch.Actor != "user "+strconv.FormatInt(u.ID, 10) || ch.RequestID != "bulk-req" || ch.TenantID != strconv.FormatInt(org.ID, 10) {
					t.Fatalf("bulk update change: %+v", ch)
				}
				ids[ch.EntityID] = true
			}
			if len(got) != n || len(ids) != n {
				t.Fatalf("bulk update: %d changes of %d projects, want %d", len(got), len(ids), n)
			}
			if err := r.db.InTx(as, func(tx *sql.Tx) error {
				_, err := tx.Exec(`DELETE FROM projects WHERE org_id = $1`, org.ID)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if got := r.take(t); len(got) != n || got[0].Action != "delete" {
				t.Fatalf("bulk delete: %d changes, want %d", len(got), n)
			}
		})
	}
}
