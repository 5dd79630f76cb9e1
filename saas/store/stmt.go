package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/sidelog/sidelog/audit"
)

// stmts caches prepared statements of the hot paths. database/sql keeps a
// *sql.Stmt prepared on each connection it has been used on, and
// tx.StmtContext reuses that: a statement is parsed once per connection
// instead of once per call. On SQLite parsing was the larger part of a
// business write, and of audit capture's cost: an UPDATE of an audited
// table compiles the capture trigger's program into the statement
// (BENCHMARKS.md, "Audit trail").
type stmts struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// prepare prepares the queries once, at the end of Migrate, when no
// transaction holds a connection: preparing takes a connection of its own
// from the pool, which a transaction waiting for it would deadlock if
// every connection were in a transaction.
func (c *stmts) prepare(ctx context.Context, queries ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range queries {
		if _, ok := c.m[q]; ok {
			continue
		}
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %.40q: %w", q, err)
		}
		if c.m == nil {
			c.m = map[string]*sql.Stmt{}
		}
		c.m[q] = st
	}
	return nil
}

// get returns the prepared statement of q, nil when it was not prepared.
func (c *stmts) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

// close closes every cached statement.
func (c *stmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// txExec runs the cached statement q in tx.
func (db *DB) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := db.stmts.get(q); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// txQueryRow runs the cached query q in tx.
func (db *DB) txQueryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if st := db.stmts.get(q); st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

// Queries of the hot paths, prepared by Migrate.
const (
	qFindProject   = `SELECT ` + projectColumns + visible + ` WHERE p.id = $2`
	qUpdateProject = `UPDATE projects SET name = $1, status = $2, budget_cents = $3, owner_id = $4, updated_at = $5 WHERE id = $6`
)

// prepareHot prepares the hot paths' queries: a project's read and
// update, and the audit actor's statements.
func (db *DB) prepareHot(ctx context.Context) error {
	set, clear := audit.ContextSQL(db.dialect)
	qs := []string{qFindProject, qUpdateProject, set}
	if clear != "" {
		qs = append(qs, clear)
	}
	return db.stmts.prepare(ctx, qs...)
}
