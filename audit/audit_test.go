package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/sqlite"
)

var things = audit.MustRegistry(audit.Model{Entity: "thing", Table: "things", Key: []string{"id"},
	Sensitive: []string{"secret"}, Tenant: "org"})

func mustBusiness(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "app.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT, secret TEXT, org TEXT, api_token TEXT)`); err != nil {
		t.Fatal(err)
	}
	if err := things.Install(context.Background(), db, audit.SQLite); err != nil {
		t.Fatal(err)
	}
	return db
}

func mustLogs(t *testing.T) *sqlite.DB {
	t.Helper()
	logs, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logs.Close() })
	return logs
}

// crashingStore stores the batch, then fails as if the process had died
// before the outbox rows were deleted.
type crashingStore struct {
	sidelog.Store
	crash bool
}

func (s *crashingStore) WriteBatch(ctx context.Context, recs []sidelog.Record) error {
	if err := s.Store.WriteBatch(ctx, recs); err != nil {
		return err
	}
	if s.crash {
		return errors.New("crash after the log write")
	}
	return nil
}

func TestDeliverer_Idempotent(t *testing.T) {
	ctx := context.Background()
	db, logs := mustBusiness(t), mustLogs(t)
	tx, _ := db.Begin()
	if err := audit.SetContext(ctx, tx, audit.SQLite, audit.Actor{UserID: "7", RequestID: "r1"}); err != nil {
		t.Fatal(err)
	}
	tx.Exec(`INSERT INTO things (id, name, secret, org, api_token) VALUES
		(1, 'a', 's3cr3t-value', 'o1', 'tok-undeclared-123'), (2, 'card 4111 1111 1111 1111', NULL, 'o1', NULL)`)
	audit.ClearContext(ctx, tx, audit.SQLite)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	cs := &crashingStore{Store: logs, crash: true}
	d := things.NewDeliverer(db, audit.SQLite, cs, audit.DeliverOptions{})
	if _, err := d.Deliver(ctx); err == nil {
		t.Fatal("want the crash")
	}
	if n, _ := d.Pending(ctx); n != 2 {
		t.Fatalf("outbox after the crash: %d rows, want 2", n)
	}
	cs.crash = false
	if n, err := d.Deliver(ctx); err != nil || n != 0 {
		t.Fatalf("second delivery wrote %d records (%v), want 0: they were already there", n, err)
	}
	if n, _ := d.Pending(ctx); n != 0 {
		t.Fatalf("outbox after redelivery: %d rows", n)
	}
	got, err := logs.Count(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindAudit}})
	if err != nil || got != 2 {
		t.Fatalf("audit records: %d, %v; want exactly 2", got, err)
	}
	res, _ := logs.Query(ctx, sidelog.Filter{}, sidelog.Page{})
	for _, r := range res.Records {
		if r.UserID != "7" || r.RequestID != "r1" || r.TenantID != "o1" || strings.Contains(string(r.Attrs), "s3cr3t") ||
			strings.Contains(string(r.Attrs), "tok-undeclared") || strings.Contains(string(r.Attrs), "4111 1111") {
			t.Errorf("record %+v", r)
		}
	}
}

func TestRegistry_Bad(t *testing.T) {
	for _, m := range []audit.Model{
		{Entity: "", Table: "t", Key: []string{"id"}},
		{Entity: "x", Table: "t; DROP TABLE users", Key: []string{"id"}},
		{Entity: "x", Table: "t"},
		{Entity: "x", Table: "t", Key: []string{"id"}, Sensitive: []string{"a'b"}},
		{Entity: "x", Table: "t", Key: []string{"id"}, Refs: map[string]string{"Bad": "c"}},
	} {
		if _, err := audit.NewRegistry(m); err == nil {
			t.Errorf("%+v: want an error", m)
		}
	}
	m := audit.Model{Entity: "x", Table: "t", Key: []string{"id"}}
	if _, err := audit.NewRegistry(m, m); err == nil {
		t.Error("duplicate: want an error")
	}
	db := mustBusiness(t)
	bad := audit.MustRegistry(audit.Model{Entity: "x", Table: "missing", Key: []string{"id"}})
	if err := bad.Install(context.Background(), db, audit.SQLite); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing table: %v", err)
	}
	bad = audit.MustRegistry(audit.Model{Entity: "x", Table: "things", Key: []string{"nope"}})
	if err := bad.Install(context.Background(), db, audit.SQLite); err == nil || !strings.Contains(err.Error(), "no column nope") {
		t.Errorf("missing column: %v", err)
	}
}

func TestHistory_BadInput(t *testing.T) {
	logs := mustLogs(t)
	for _, q := range []audit.HistoryQuery{{Entity: "", ID: "1"}, {Entity: "Project", ID: "1"}, {Entity: "p", ID: ""}, {Entity: "p", ID: `1" OR "`}} {
		if _, err := audit.History(context.Background(), logs, q); sidelog.ErrorCode(err) != sidelog.EINVALID {
			t.Errorf("%+v: got %v, want invalid", q, err)
		}
	}
}
