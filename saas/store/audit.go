package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/saas"
)

// Audited declares the business tables whose every change is recorded in
// the log database: declared once here, captured by triggers that
// Migrate installs, whatever statement makes the change.
var Audited = audit.MustRegistry(
	audit.Model{Entity: "user", Table: "users", Key: []string{"id"}, Sensitive: []string{"password_hash"}},
	audit.Model{Entity: "org", Table: "orgs", Key: []string{"id"}, Tenant: "id"},
	audit.Model{Entity: "membership", Table: "memberships", Key: []string{"org_id", "user_id"}, Tenant: "org_id",
		Refs: map[string]string{"user": "user_id", "org": "org_id"}},
	audit.Model{Entity: "project", Table: "projects", Key: []string{"id"}, Tenant: "org_id",
		Ignore: []string{"updated_at"}, Refs: map[string]string{"org": "org_id"}},
	audit.Model{Entity: "log_viewer", Table: "log_viewers", Key: []string{"user_id"},
		Refs: map[string]string{"user": "user_id"}},
)

// actorOf returns who acts in ctx: the audit actor set by a command, or the
// user of the request (saas.NewContext, sidelog.WithUser).
func actorOf(ctx context.Context) audit.Actor {
	a := audit.ActorFrom(ctx)
	if a.UserID == "" {
		if id := saas.UserIDFromContext(ctx); id != 0 {
			a.UserID = strconv.FormatInt(id, 10)
		}
	}
	if a.RequestID == "" {
		a.RequestID = sidelog.ScopeFrom(ctx).RequestID
	}
	return a
}

// begin starts a transaction that writes business data, telling the audit
// triggers who acts in it. Every writing transaction goes through it and
// ends with commit.
func (db *DB) begin(ctx context.Context) (*sql.Tx, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if db.noAudit {
		return tx, nil
	}
	set, _ := audit.ContextSQL(db.dialect)
	if db.dialect == Postgres {
		var x string
		if err := db.txQueryRow(ctx, tx, set, audit.ActorJSON(actorOf(ctx))).Scan(&x); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("set audit context: %w", err)
		}
		return tx, nil
	}
	if _, err := db.txExec(ctx, tx, set, audit.ActorJSON(actorOf(ctx))); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("set audit context: %w", err)
	}
	return tx, nil
}

// commit ends a transaction started with begin and wakes the audit
// deliverer.
func (db *DB) commit(ctx context.Context, tx *sql.Tx) error {
	if db.noAudit {
		return tx.Commit()
	}
	if _, clear := audit.ContextSQL(db.dialect); clear != "" {
		if _, err := db.txExec(ctx, tx, clear); err != nil {
			return fmt.Errorf("clear audit context: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if n := db.notify.Load(); n != nil {
		(*n)()
	}
	return nil
}

// AuditDeliverer returns the deliverer of this database's audit outbox into
// the log database logs, and has every commit wake it. Run it for the
// application's lifetime (its Run), or call Deliver after a command.
func (db *DB) AuditDeliverer(logs sidelog.Store, opts audit.DeliverOptions) *audit.Deliverer {
	d := Audited.NewDeliverer(db.db, db.dialect, logs, opts)
	notify := d.Notify
	db.notify.Store(&notify)
	return d
}

// installAudit creates the outbox and the capture triggers, then prepares
// the hot paths' statements (their plans hold the triggers' programs).
func (db *DB) installAudit(ctx context.Context) error {
	if err := Audited.Install(ctx, db.db, db.dialect); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := db.prepareHot(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
