package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
)

// The catalog's settings keys of followers (shippers): the position under
// positionKey+name, and the count of records retention removed before the
// follower read them under lostKey+name.
const (
	positionKey = "position."
	lostKey     = "lost."
)

var _ sidelog.PositionReader = (*DB)(nil)

// LoadPosition returns the position saved under name (nil when none was
// saved): where a follower such as a shipper resumes after a restart.
func (db *DB) LoadPosition(ctx context.Context, name string) (sidelog.Position, error) {
	if err := checkFollowerName(name); err != nil {
		return nil, err
	}
	var v string
	err := db.catRow(ctx, `SELECT value FROM settings WHERE key = ?`, positionKey+name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, classify(fmt.Errorf("read position %s: %w", name, err))
	}
	return decodePosition(v)
}

func decodePosition(v string) (sidelog.Position, error) {
	var p sidelog.Position
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return nil, fmt.Errorf("saved position: %w", err)
	}
	return p, nil
}

// SavePosition saves p under name in the catalog, in one transaction, so a
// crash leaves either the old or the new position. It also keeps the
// writer from handing out again an ID at or below p (after the newest
// records of a day were purged and the database reopened), which the
// follower would otherwise skip.
func (db *DB) SavePosition(ctx context.Context, name string, p sidelog.Position) error {
	if err := checkFollowerName(name); err != nil {
		return err
	}
	b, _ := json.Marshal(p)
	if _, err := db.catExec(ctx, `INSERT INTO settings(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, positionKey+name, string(b)); err != nil {
		return classify(fmt.Errorf("save position %s: %w", name, err))
	}
	db.raiseFloors(p)
	return nil
}

// DeletePosition forgets the position and the lost count saved under name:
// the follower starts again from the beginning, and retention no longer
// holds records for it.
func (db *DB) DeletePosition(ctx context.Context, name string) error {
	if err := checkFollowerName(name); err != nil {
		return err
	}
	_, err := db.catExec(ctx, `DELETE FROM settings WHERE key IN (?, ?)`, positionKey+name, lostKey+name)
	return classify(err)
}

// Lost returns how many records retention removed before the follower
// name had read them (see sidelog.Retention.KeepUnshipped).
func (db *DB) Lost(ctx context.Context, name string) (int64, error) {
	var v string
	err := db.catRow(ctx, `SELECT value FROM settings WHERE key = ?`, lostKey+name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, classify(err)
	}
	return strconv.ParseInt(v, 10, 64)
}

func (db *DB) addLost(ctx context.Context, name string, n int64) error {
	_, err := db.catExec(ctx, `INSERT INTO settings(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER)`,
		lostKey+name, strconv.FormatInt(n, 10))
	return classify(err)
}

// positions returns every saved position by follower name.
func (db *DB) positions(ctx context.Context) (map[string]sidelog.Position, error) {
	rows, err := db.catQuery(ctx, `SELECT key, value FROM settings WHERE key >= ? AND key < ?`,
		positionKey, positionKey[:len(positionKey)-1]+"/") // '/' follows '.'
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	out := map[string]sidelog.Position{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		p, err := decodePosition(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[strings.TrimPrefix(k, positionKey)] = p
	}
	return out, rows.Err()
}

// checkFollowerName accepts short names of letters, digits, '-' and '_'.
func checkFollowerName(name string) error {
	if name == "" || len(name) > 64 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return sidelog.Errorf(sidelog.EINVALID, "follower name %q: want 1 to 64 letters, digits, '-' or '_'", name)
	}
	return nil
}

// loadFloors raises the writer's ID floors to every saved position; Open
// calls it.
func (db *DB) loadFloors(ctx context.Context) error {
	ps, err := db.positions(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		db.raiseFloors(p)
	}
	return nil
}

func (db *DB) raiseFloors(p sidelog.Position) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	for day, id := range p {
		if _, row := splitID(id); row > db.seqFloor[day] {
			db.seqFloor[day] = row
		}
	}
}

// readLimits returns, for every day with segments, the rowid below which
// every record is committed. A day's records are spread over its class
// files, each committed in its own transaction, so a reader between two of
// them could see a later rowid before an earlier one. The writer holds wmu
// for a whole batch; the snapshot is taken between batches. Days this
// process has not written are read from their files once and remembered
// as the writer would (daySeq).
//
// A database written by another process at the same time is not covered:
// its batch in flight may be read in part. Ship a live database from the
// process that writes it.
func (db *DB) readLimits(ctx context.Context) (map[int64]int64, error) {
	db.wmu.Lock()
	lims := maps.Clone(db.nextSeq)
	db.wmu.Unlock()
	found := map[int64]int64{}
	for _, s := range db.segments() {
		if _, ok := lims[s.day]; ok {
			continue
		}
		m, err := s.maxID(ctx)
		if err = s.db.survive(s, ignoreGone(err)); err != nil { // a damaged file is set aside, not a stall
			return nil, classify(err)
		}
		found[s.day] = max(found[s.day], m+1)
	}
	if len(found) == 0 {
		return lims, nil
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	for day, next := range found {
		if n, ok := db.nextSeq[day]; ok {
			lims[day] = n // written meanwhile
			continue
		}
		next = max(next, db.seqFloor[day]+1)
		db.nextSeq[day], lims[day] = next, next
	}
	return lims, nil
}

// ReadAfter returns up to limit committed records that p does not cover,
// oldest day first and in ID order within a day, and the position after
// them. Days that retention removed completely are dropped from the
// returned position.
func (db *DB) ReadAfter(ctx context.Context, p sidelog.Position, limit int) ([]sidelog.Record, sidelog.Position, error) {
	if limit <= 0 {
		return nil, p, sidelog.Errorf(sidelog.EINVALID, "read limit must be positive")
	}
	defer db.afterRead(ctx)
	lims, err := db.readLimits(ctx)
	if err != nil {
		return nil, p, err
	}
	days := byDay(db.segments())
	slices.Reverse(days) // oldest first
	next := sidelog.Position{}
	for _, day := range days {
		if v, ok := p[day[0].day]; ok {
			next[day[0].day] = v
		}
	}
	var out []sidelog.Record
	for _, segs := range days {
		d := segs[0].day
		_, after := splitID(next[d])
		lim := lims[d]
		if lim-1 <= after {
			continue
		}
		need := limit - len(out)
		recs, upTo, err := readRange(ctx, segs, after, lim, need)
		if err != nil {
			return nil, p, err
		}
		out = append(out, recs...)
		next[d] = makeID(d, upTo)
		if len(out) >= limit {
			break
		}
	}
	return out, next, nil
}

// readRange returns up to n records of one day's files with rowids in
// (after, lim), in rowid order, and the rowid up to which it read every
// record: the last one's, or lim-1 when fewer than n are there. A day's records are spread over its class
// files; when there are several, the rowids alone are read first to find
// where the n-th record ends, so that each file gives its full rows up to
// there only (reading n full rows from each file and keeping n of them in
// all did up to three times the work).
func readRange(ctx context.Context, segs []*segment, after, lim int64, n int) ([]sidelog.Record, int64, error) {
	upTo := lim - 1 // every record below lim is committed
	if len(segs) > 1 {
		var ids []int64
		for _, s := range segs {
			err := s.withReader(func(r queryer) error {
				rows, err := r.QueryContext(ctx, `SELECT id FROM logs WHERE id > ? AND id < ? ORDER BY id LIMIT ?`, after, lim, n)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var id int64
					if err := rows.Scan(&id); err != nil {
						return err
					}
					ids = append(ids, id)
				}
				return rows.Err()
			})
			if err = s.db.survive(s, err); err != nil {
				return nil, 0, classify(fmt.Errorf("read %s: %w", s.name(), err))
			}
		}
		if len(ids) > n {
			slices.Sort(ids)
			// The n-th record is the last to read. Read to it even when a
			// purge removes records meanwhile and fewer than n come back.
			upTo = ids[n-1]
			lim = upTo + 1
		}
	}
	var recs []sidelog.Record
	for _, s := range segs {
		got, err := s.readFollow(ctx, after, lim, n)
		recs = mergeByID(recs, got)
		if err = s.db.survive(s, err); err != nil {
			return nil, 0, classify(fmt.Errorf("read %s: %w", s.name(), err))
		}
	}
	if len(recs) >= n {
		recs = recs[:n]
		_, upTo = splitID(recs[n-1].ID)
	}
	return recs, upTo, nil
}

// followColumns are the columns of a record as stored: the strings of the
// dict and msgs columns are looked up after the rows, once per distinct
// id of a batch (a subquery per column and row was three quarters of
// the cost of reading).
const followColumns = `SELECT id, ts, level, kind, logger, msg, request_id, trace_id, span_id, user_id, tenant_id,
	method, path, route, status, duration, client_ip, user_agent, err, attrs FROM logs
	WHERE id > ? AND id < ? ORDER BY id LIMIT ?`

// readFollow returns up to n records of s with rowids in (after, lim), in
// rowid order, read in one transaction: the strings looked up belong to
// the same snapshot as the rows (an erasure in between could otherwise
// remove them, or let a new string take a removed one's id).
func (s *segment) readFollow(ctx context.Context, after, lim int64, n int) ([]sidelog.Record, error) {
	s.swap.RLock()
	defer s.swap.RUnlock()
	r, err := s.reader()
	if err != nil {
		return nil, ignoreGone(err)
	}
	tx, err := r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read only
	c := stmtCache{s, r}
	query := func(q string, args ...any) (*sql.Rows, error) {
		st, err := c.stmt(ctx, q)
		if err != nil {
			return nil, err
		}
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	recs, refs, err := scanFollow(query, s.day, after, lim, n)
	if isNoSchema(err) {
		return nil, nil // created but never migrated: no records
	}
	if err != nil {
		return nil, err
	}
	dictIDs, msgIDs := map[int64]string{}, map[int64]string{}
	for _, f := range refs {
		for _, id := range f[:5] {
			dictIDs[id] = ""
		}
		msgIDs[f[5]], msgIDs[f[6]] = "", ""
	}
	if err := lookupStrings(query, `SELECT id, s FROM dict WHERE id IN (SELECT value FROM json_each(?))`, dictIDs); err != nil {
		return nil, err
	}
	if err := lookupStrings(query, `SELECT id, s FROM msgs WHERE id IN (SELECT value FROM json_each(?))`, msgIDs); err != nil {
		return nil, err
	}
	for i, f := range refs {
		r := &recs[i]
		r.Logger, r.Method, r.Path, r.Route, r.UserAgent = dictIDs[f[0]], dictIDs[f[1]], dictIDs[f[2]], dictIDs[f[3]], dictIDs[f[4]]
		r.Message, r.Error = msgIDs[f[5]], msgIDs[f[6]]
	}
	return recs, nil
}

// scanFollow reads the rows of followColumns, and for each the ids of its
// strings: logger, method, path, route and user agent in dict, message
// and error in msgs; 0 for NULL (ids start at 1).
func scanFollow(query func(string, ...any) (*sql.Rows, error), day, after, lim int64, n int) ([]sidelog.Record, [][7]int64, error) {
	rows, err := query(followColumns, after, lim, n)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	recs := make([]sidelog.Record, 0, min(n, 1024))
	refs := make([][7]int64, 0, min(n, 1024))
	for rows.Next() {
		var (
			r                                              sidelog.Record
			rowid, ts, level, kind                         int64
			logger, msg, method, path, route, ua, errID    sql.NullInt64
			reqID, traceID, spanID, user, tenant, ip, attr sql.NullString
			status, dur                                    sql.NullInt64
		)
		if err := rows.Scan(&rowid, &ts, &level, &kind, &logger, &msg, &reqID, &traceID, &spanID, &user, &tenant,
			&method, &path, &route, &status, &dur, &ip, &ua, &errID, &attr); err != nil {
			return nil, nil, err
		}
		r.ID = makeID(day, rowid)
		r.Time = time.Unix(0, ts).UTC()
		r.Level, r.Kind = slog.Level(level), sidelog.Kind(kind)
		r.RequestID, r.TraceID, r.SpanID = reqID.String, traceID.String, spanID.String
		r.UserID, r.TenantID, r.ClientIP = user.String, tenant.String, ip.String
		r.Status, r.Duration = int(status.Int64), time.Duration(dur.Int64)
		if attr.Valid {
			r.Attrs = json.RawMessage(attr.String)
		}
		recs = append(recs, r)
		refs = append(refs, [7]int64{logger.Int64, method.Int64, path.Int64, route.Int64, ua.Int64, msg.Int64, errID.Int64})
	}
	return recs, refs, rows.Err()
}

// lookupStrings fills in the strings of the ids that are the keys of ids
// (0 stands for none and stays "").
func lookupStrings(query func(string, ...any) (*sql.Rows, error), q string, ids map[int64]string) error {
	delete(ids, 0)
	if len(ids) == 0 {
		return nil
	}
	list := make([]byte, 0, 8*len(ids))
	list = append(list, '[')
	for id := range ids {
		if len(list) > 1 {
			list = append(list, ',')
		}
		list = strconv.AppendInt(list, id, 10)
	}
	list = append(list, ']')
	rows, err := query(q, string(list))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var str string
		if err := rows.Scan(&id, &str); err != nil {
			return err
		}
		ids[id] = str
	}
	return rows.Err()
}

// mergeByID merges two runs of records sorted by ID.
func mergeByID(a, b []sidelog.Record) []sidelog.Record {
	switch {
	case len(a) == 0:
		return b
	case len(b) == 0:
		return a
	}
	out := make([]sidelog.Record, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].ID < b[0].ID {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// Backlog returns how many committed records p does not cover and the
// time of the oldest of them.
func (db *DB) Backlog(ctx context.Context, p sidelog.Position) (int64, time.Time, error) {
	lims, err := db.readLimits(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	var n int64
	var oldest int64
	for _, s := range db.segments() {
		_, after := splitID(p[s.day])
		lim := lims[s.day]
		if lim-1 <= after {
			continue
		}
		var c int64
		var first sql.NullInt64
		err := s.withReader(func(r queryer) error {
			return r.QueryRowContext(ctx, `SELECT count(*), min(ts) FROM logs WHERE id > ? AND id < ?`, after, lim).Scan(&c, &first)
		})
		if err != nil {
			return 0, time.Time{}, classify(fmt.Errorf("backlog %s: %w", s.name(), err))
		}
		n += c
		if first.Valid && (oldest == 0 || first.Int64 < oldest) {
			oldest = first.Int64
		}
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	return n, time.Unix(0, oldest).UTC(), nil
}
