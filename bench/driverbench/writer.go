//go:build driverbench

package driverbench

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sidelog/sidelog"
)

// rowsPerStmt is the number of rows in one multi-row INSERT.
const rowsPerStmt = 100

const logCols = 19 // every column of logs but id

// writer is the shape of sidelog's writer, reduced to what costs time: it
// keeps the dict and msgs tables' ids in memory, adds a string it has not
// seen with INSERT OR IGNORE (and its FTS row when the message is new),
// inserts the rows 100 per statement and upserts the per-minute rollup, all
// in one transaction per batch.
type writer struct {
	db         *sql.DB
	dict, msgs map[string]int64

	insDict, selDict, insMsg, selMsg, insFTS, insLogs, upRollup *sql.Stmt

	args []any
}

func newWriter(ctx context.Context, db *sql.DB) (*writer, error) {
	w := &writer{db: db, dict: map[string]int64{}, msgs: map[string]int64{},
		args: make([]any, 0, rowsPerStmt*logCols)}
	if err := loadIDs(ctx, db, "SELECT id, s FROM dict", w.dict); err != nil {
		return nil, err
	}
	if err := loadIDs(ctx, db, "SELECT id, s FROM msgs", w.msgs); err != nil {
		return nil, err
	}
	values := "(" + strings.TrimSuffix(strings.Repeat("?,", logCols), ",") + ")"
	stmts := []struct {
		p *(*sql.Stmt)
		q string
	}{
		{&w.insDict, "INSERT OR IGNORE INTO dict(s) VALUES (?)"},
		{&w.selDict, "SELECT id FROM dict WHERE s = ?"},
		{&w.insMsg, "INSERT OR IGNORE INTO msgs(s) VALUES (?)"},
		{&w.selMsg, "SELECT id FROM msgs WHERE s = ?"},
		{&w.insFTS, "INSERT INTO msgs_fts(rowid, s) VALUES (?, ?)"},
		{&w.insLogs, "INSERT INTO logs(ts, level, kind, logger, msg, request_id, trace_id, span_id, " +
			"user_id, tenant_id, method, path, route, status, duration, client_ip, user_agent, err, attrs) VALUES " +
			strings.TrimSuffix(strings.Repeat(values+",", rowsPerStmt), ",")},
		{&w.upRollup, "INSERT INTO rollup(minute, level_class, kind, status_class, n) VALUES (?, ?, ?, ?, ?) " +
			"ON CONFLICT DO UPDATE SET n = n + excluded.n"},
	}
	for _, s := range stmts {
		st, err := db.PrepareContext(ctx, s.q)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("prepare %q: %w", s.q[:min(len(s.q), 40)], err)
		}
		*s.p = st
	}
	return w, nil
}

func loadIDs(ctx context.Context, db *sql.DB, q string, m map[string]int64) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("load ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var s string
		if err := rows.Scan(&id, &s); err != nil {
			return fmt.Errorf("load ids: %w", err)
		}
		m[s] = id
	}
	return rows.Err()
}

// Close closes the prepared statements.
func (w *writer) Close() {
	for _, s := range []*sql.Stmt{w.insDict, w.selDict, w.insMsg, w.selMsg, w.insFTS, w.insLogs, w.upRollup} {
		if s != nil {
			s.Close()
		}
	}
}

// writeBatch writes rows (a multiple of rowsPerStmt) in one transaction.
// The id caches are not rolled back on failure; a benchmark stops there.
func (w *writer) writeBatch(ctx context.Context, rows []row) error {
	if len(rows)%rowsPerStmt != 0 {
		return fmt.Errorf("write batch: %d rows is not a multiple of %d", len(rows), rowsPerStmt)
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write batch: %w", err)
	}
	defer tx.Rollback()
	if err := w.insertRows(ctx, tx, rows); err != nil {
		return fmt.Errorf("write batch: %w", err)
	}
	if err := w.upsertRollup(ctx, tx, rows); err != nil {
		return fmt.Errorf("write batch: %w", err)
	}
	return tx.Commit()
}

func (w *writer) insertRows(ctx context.Context, tx *sql.Tx, rows []row) error {
	ins := tx.StmtContext(ctx, w.insLogs)
	for i := 0; i < len(rows); i += rowsPerStmt {
		w.args = w.args[:0]
		for j := i; j < i+rowsPerStmt; j++ {
			if err := w.appendArgs(ctx, tx, &rows[j]); err != nil {
				return err
			}
		}
		if _, err := ins.ExecContext(ctx, w.args...); err != nil {
			return fmt.Errorf("insert logs: %w", err)
		}
	}
	return nil
}

func (w *writer) appendArgs(ctx context.Context, tx *sql.Tx, r *row) error {
	var ids [7]any
	for i, s := range []string{r.logger, r.method, r.path, r.route, r.userAgent} {
		id, err := w.dictID(ctx, tx, s)
		if err != nil {
			return err
		}
		ids[i] = id
	}
	msg, err := w.msgID(ctx, tx, r.msg)
	if err != nil {
		return err
	}
	errID, err := w.msgID(ctx, tx, r.err)
	if err != nil {
		return err
	}
	w.args = append(w.args, r.ts, r.level, r.kind, ids[0], msg,
		null(r.requestID), nil, nil, null(r.userID), null(r.tenant),
		ids[1], ids[2], ids[3], nullInt(r.status), nullInt(r.duration),
		null(r.clientIP), ids[4], errID, null(r.attrs))
	return nil
}

// dictID returns the id of s in dict, or nil for "".
func (w *writer) dictID(ctx context.Context, tx *sql.Tx, s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	if id, ok := w.dict[s]; ok {
		return id, nil
	}
	id, _, err := internString(ctx, tx, w.insDict, w.selDict, s)
	if err != nil {
		return nil, fmt.Errorf("dict: %w", err)
	}
	w.dict[s] = id
	return id, nil
}

// msgID returns the id of s in msgs, adding its FTS row when s is new, or
// nil for "".
func (w *writer) msgID(ctx context.Context, tx *sql.Tx, s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	if id, ok := w.msgs[s]; ok {
		return id, nil
	}
	id, added, err := internString(ctx, tx, w.insMsg, w.selMsg, s)
	if err != nil {
		return nil, fmt.Errorf("msgs: %w", err)
	}
	if added {
		if _, err := tx.StmtContext(ctx, w.insFTS).ExecContext(ctx, id, s); err != nil {
			return nil, fmt.Errorf("msgs_fts: %w", err)
		}
	}
	w.msgs[s] = id
	return id, nil
}

// internString inserts s unless present and returns its id and whether it
// was added.
func internString(ctx context.Context, tx *sql.Tx, ins, sel *sql.Stmt, s string) (int64, bool, error) {
	res, err := tx.StmtContext(ctx, ins).ExecContext(ctx, s)
	if err != nil {
		return 0, false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, false, err
	} else if n == 1 {
		id, err := res.LastInsertId()
		return id, true, err
	}
	var id int64
	err = tx.StmtContext(ctx, sel).QueryRowContext(ctx, s).Scan(&id)
	return id, false, err
}

type rollupKey struct{ minute, class, kind, status int64 }

func (w *writer) upsertRollup(ctx context.Context, tx *sql.Tx, rows []row) error {
	counts := map[rollupKey]int64{}
	for i := range rows {
		r := &rows[i]
		k := rollupKey{r.ts / 60e9, int64(sidelog.LevelClass(slog.Level(r.level))), r.kind, r.status / 100}
		counts[k]++
	}
	up := tx.StmtContext(ctx, w.upRollup)
	for k, n := range counts {
		if _, err := up.ExecContext(ctx, k.minute, k.class, k.kind, k.status, n); err != nil {
			return fmt.Errorf("rollup: %w", err)
		}
	}
	return nil
}

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}
