package store

import (
	"context"
	"database/sql"
)

// SQLDB exposes the handle to tests that write around the store's methods
// (raw bulk statements, rolled-back transactions).
func (db *DB) SQLDB() *sql.DB { return db.db }

// InTx runs fn in a transaction begun like the store's own (with the audit
// actor set), committing when fn returns nil and rolling back otherwise.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return db.commit(ctx, tx)
}

// WithoutAudit drops the capture triggers and stops setting the audit
// context: the store as it was before auditing, for the benchmark's
// baseline.
func (db *DB) WithoutAudit(ctx context.Context) error {
	db.noAudit = true
	for _, m := range Audited.Models() {
		q := `DROP TRIGGER IF EXISTS sidelog_audit_` + m.Table + ` ON ` + m.Table
		if db.dialect == SQLite {
			q = `DROP TRIGGER IF EXISTS sidelog_audit_` + m.Table + `_insert; DROP TRIGGER IF EXISTS sidelog_audit_` + m.Table +
				`_update; DROP TRIGGER IF EXISTS sidelog_audit_` + m.Table + `_delete`
		}
		if _, err := db.db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
