package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
)

// derived collects what a batch adds to a file's attribute index, key
// counts and request rollups; flush writes it in the batch's transaction.
type derived struct {
	docs []any // rowid, document pairs for attrs_fts
	keys map[string]int64
	reqs [2]map[reqKey]*reqAgg // per minute, per hour
}

// reqKey is one row of reqs_minute (span 0) or reqs_hour (span 1).
type reqKey struct {
	at            int64 // Unix minute or hour
	route, method int64 // dict ids, 0 for none
	status        int
}

type reqAgg struct {
	n, durSum int64
	hist      durHist
}

func newDerived() *derived {
	return &derived{keys: map[string]int64{}, reqs: [2]map[reqKey]*reqAgg{{}, {}}}
}

// derivedOff turns off the attribute index, key counts and request
// rollups in the writer: only for measuring what they cost (the write-cost
// benchmark). Files written so have no index and wrong answers.
var derivedOff bool

// add records one row. attrs, route and method are the row's stored
// values (attrs text or nil, dict ids or nil).
func (d *derived) add(rowid, ts int64, kind sidelog.Kind, attrs, route, method any, status int, dur time.Duration) {
	if derivedOff {
		return
	}
	if a, ok := attrs.(string); ok {
		if doc := attrDoc([]byte(a), func(p string) { d.keys[p]++ }); doc != "" {
			d.docs = append(d.docs, rowid, doc)
		}
	}
	if kind != sidelog.KindRequest {
		return
	}
	r, _ := route.(int64)
	m, _ := method.(int64)
	for span, unit := range [2]int64{int64(time.Minute), int64(time.Hour)} {
		k := reqKey{at: floorDiv(ts, unit), route: r, method: m, status: status}
		a := d.reqs[span][k]
		if a == nil {
			a = &reqAgg{hist: durHist{}}
			d.reqs[span][k] = a
		}
		a.n++
		a.durSum += int64(dur)
		a.hist.add(dur, 1)
	}
}

// docsPerInsert is how many documents one INSERT into attrs_fts carries.
const docsPerInsert = 100

var reqTables = [2]struct{ table, at string }{{"reqs_minute", "minute"}, {"reqs_hour", "hour"}}

// flush writes the collected rows in tx.
func (d *derived) flush(ctx context.Context, tx *sql.Tx) error {
	for i := 0; i < len(d.docs); i += 2 * docsPerInsert {
		chunk := d.docs[i:min(i+2*docsPerInsert, len(d.docs))]
		q := `INSERT INTO attrs_fts(rowid, t) VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?),", len(chunk)/2), ",")
		if _, err := tx.ExecContext(ctx, q, chunk...); err != nil {
			return fmt.Errorf("index attributes: %w", err)
		}
	}
	for p, n := range d.keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO attr_keys(path, n) VALUES (?, ?)
			ON CONFLICT DO UPDATE SET n = n + excluded.n`, p, n); err != nil {
			return fmt.Errorf("count attribute keys: %w", err)
		}
	}
	for span, aggs := range d.reqs {
		if err := flushReqs(ctx, tx, reqTables[span].table, reqTables[span].at, aggs); err != nil {
			return err
		}
	}
	return nil
}

// flushReqs merges aggs into a request rollup table.
func flushReqs(ctx context.Context, tx *sql.Tx, table, at string, aggs map[reqKey]*reqAgg) error {
	if len(aggs) == 0 {
		return nil
	}
	sel, err := tx.PrepareContext(ctx, `SELECT n, dur_sum, hist FROM `+table+` WHERE `+at+` = ? AND route = ? AND method = ? AND status = ?`)
	if err != nil {
		return fmt.Errorf("update %s: %w", table, err)
	}
	defer sel.Close()
	put, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO `+table+`(`+at+`, route, method, status, n, dur_sum, hist) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("update %s: %w", table, err)
	}
	defer put.Close()
	for k, a := range aggs {
		var n, sum int64
		var blob []byte
		err := sel.QueryRowContext(ctx, k.at, k.route, k.method, k.status).Scan(&n, &sum, &blob)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return fmt.Errorf("update %s: %w", table, err)
		default:
			if err := a.hist.decode(blob); err != nil {
				return fmt.Errorf("update %s: %w", table, err)
			}
			a.n += n
			a.durSum += sum
		}
		if _, err := put.ExecContext(ctx, k.at, k.route, k.method, k.status, a.n, a.durSum, a.hist.encode()); err != nil {
			return fmt.Errorf("update %s: %w", table, err)
		}
	}
	return nil
}

// rebuildChunk is how many rows rebuildDerived reads per statement.
const rebuildChunk = 5000

// rebuildDerived fills the attribute index, key counts and request rollups
// of a file from its rows: after a retention rewrite, and for files
// written before they existed. The tables must be empty.
func rebuildDerived(ctx context.Context, tx *sql.Tx, schema string) error {
	for last := int64(0); ; {
		d := newDerived()
		rows, err := tx.QueryContext(ctx, `SELECT id, ts, kind, attrs, route, method, coalesce(status, 0), coalesce(duration, 0)
			FROM `+schema+`.logs WHERE id > ? ORDER BY id LIMIT ?`, last, rebuildChunk)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			var id, ts, kind, status, dur int64
			var attrs sql.NullString
			var route, method sql.NullInt64
			if err := rows.Scan(&id, &ts, &kind, &attrs, &route, &method, &status, &dur); err != nil {
				rows.Close()
				return err
			}
			var a, r, m any
			if attrs.Valid {
				a = attrs.String
			}
			if route.Valid {
				r = route.Int64
			}
			if method.Valid {
				m = method.Int64
			}
			d.add(id, ts, sidelog.Kind(kind), a, r, m, int(status), time.Duration(dur))
			last, n = id, n+1
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if err := d.flush(ctx, tx); err != nil {
			return err
		}
		if n < rebuildChunk {
			return nil
		}
	}
}
