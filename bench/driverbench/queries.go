//go:build driverbench

package driverbench

import (
	"context"
	"database/sql"
	"fmt"
)

// recordCols are the columns a page of the viewer reads; the message text
// comes through a correlated subquery so that it cannot change the plan
// over logs. Dictionary ids are resolved in memory by the store.
const recordCols = `l.id, l.ts, l.level, l.kind, l.logger, (SELECT s FROM msgs WHERE id = l.msg),
	l.request_id, l.user_id, l.tenant_id, l.method, l.path, l.route, l.status, l.duration,
	l.client_ip, l.user_agent, l.err, l.attrs`

// Params are the values the queries look for, taken from the segment.
type Params struct {
	RequestID string // a request in the middle of the day
	UserID    string
	From, To  int64 // the segment's UTC day
}

// Query is one question the viewer asks.
type Query struct {
	Name string
	SQL  string
	Args func(Params) []any
	// Records says the result rows are recordCols; otherwise every
	// column is an integer.
	Records bool
}

// Queries are the questions measured on the million-row segment.
var Queries = []Query{
	{Name: "newest50", Records: true,
		SQL: `SELECT ` + recordCols + ` FROM logs l ORDER BY l.id DESC LIMIT 50`},
	{Name: "error_newest50", Records: true,
		SQL: `SELECT ` + recordCols + ` FROM logs l WHERE l.level >= 8 ORDER BY l.id DESC LIMIT 50`},
	{Name: "request", Records: true,
		SQL:  `SELECT ` + recordCols + ` FROM logs l WHERE l.request_id = ? ORDER BY l.id DESC LIMIT 50`,
		Args: func(p Params) []any { return []any{p.RequestID} }},
	{Name: "user_newest50", Records: true,
		SQL:  `SELECT ` + recordCols + ` FROM logs l WHERE l.user_id = ? ORDER BY l.id DESC LIMIT 50`,
		Args: func(p Params) []any { return []any{p.UserID} }},
	{Name: "status5xx_newest50", Records: true,
		SQL: `SELECT ` + recordCols + ` FROM logs l WHERE l.status >= 500 ORDER BY l.id DESC LIMIT 50`},
	{Name: "fts_rare_newest50", Records: true,
		SQL: `SELECT ` + recordCols + ` FROM logs l WHERE l.msg IN
			(SELECT rowid FROM msgs_fts WHERE msgs_fts MATCH ?) ORDER BY l.id DESC LIMIT 50`,
		Args: func(Params) []any { return []any{rareWord} }},
	{Name: "hourly_by_level",
		SQL: `SELECT l.ts / 3600000000000 AS hour, l.level, count(*) FROM logs l
			WHERE l.ts >= ? AND l.ts < ? GROUP BY hour, l.level`,
		Args: func(p Params) []any { return []any{p.From, p.To} }},
	{Name: "count", SQL: `SELECT count(*) FROM logs`},
}

// LoadParams picks the looked-for values from the segment.
func LoadParams(ctx context.Context, db *sql.DB) (Params, error) {
	p := Params{From: day0, To: day0 + dayNanos}
	err := db.QueryRowContext(ctx,
		`SELECT request_id, user_id FROM logs WHERE id >= (SELECT max(id) / 2 FROM logs)
		AND request_id IS NOT NULL AND user_id IS NOT NULL ORDER BY id LIMIT 1`).Scan(&p.RequestID, &p.UserID)
	if err != nil {
		return p, fmt.Errorf("load params: %w", err)
	}
	return p, nil
}

// Run runs q and reads every row; it returns the number of rows.
func (q Query) Run(ctx context.Context, db *sql.DB, p Params) (int, error) {
	var args []any
	if q.Args != nil {
		args = q.Args(p)
	}
	rows, err := db.QueryContext(ctx, q.SQL, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", q.Name, err)
	}
	defer rows.Close()
	var rec record
	var ints [3]int64
	dest := []any{&ints[0], &ints[1], &ints[2]}
	if q.Records {
		dest = rec.dest()
	} else if cols, err := rows.Columns(); err == nil {
		dest = dest[:len(cols)]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, fmt.Errorf("%s: %w", q.Name, err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("%s: %w", q.Name, err)
	}
	return n, nil
}

type record struct {
	id, ts, level, kind                               int64
	logger, method, path, route, userAgent, err       sql.NullInt64
	status, duration                                  sql.NullInt64
	msg, requestID, userID, tenantID, clientIP, attrs sql.NullString
}

func (r *record) dest() []any {
	return []any{&r.id, &r.ts, &r.level, &r.kind, &r.logger, &r.msg, &r.requestID, &r.userID,
		&r.tenantID, &r.method, &r.path, &r.route, &r.status, &r.duration, &r.clientIP,
		&r.userAgent, &r.err, &r.attrs}
}
