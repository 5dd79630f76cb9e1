package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
)

// rowsPerInsert is how many rows one INSERT statement carries; multi-row
// VALUES cut the per-row cost of database/sql and the driver.
const rowsPerInsert = 100

const logColumns = `id, ts, level, kind, logger, msg, request_id, trace_id, span_id, user_id, tenant_id,
	method, path, route, status, duration, client_ip, user_agent, err, attrs, chain_seq, chain_hash`

const colsPerRow = 22

// Positions of columns in logColumns.
const (
	colMethod = 11
	colRoute  = 13
	colAttrs  = 19
)

var insertSQL = func() [rowsPerInsert + 1]string {
	var out [rowsPerInsert + 1]string
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", colsPerRow), ",") + ")"
	for n := 1; n <= rowsPerInsert; n++ {
		out[n] = "INSERT INTO logs(" + logColumns + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+",", n), ",")
	}
	return out
}()

// WriteBatch stores recs, one transaction per day segment they fall in, and
// sets their ID (and Time, when it was zero). A record's day is that of its
// time in UTC.
func (db *DB) WriteBatch(ctx context.Context, recs []sidelog.Record) error {
	if len(recs) == 0 {
		return nil
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if err := db.writeBatchLocked(ctx, recs); err != nil {
		return err
	}
	return db.flushEventsLocked(ctx)
}

// writeBatchLocked is WriteBatch; the caller holds wmu.
func (db *DB) writeBatchLocked(ctx context.Context, recs []sidelog.Record) error {
	now := db.opts.Now()
	for i := range recs {
		if recs[i].Time.IsZero() {
			recs[i].Time = now
		}
		if !sidelog.TimeInRange(recs[i].Time) {
			// As nanoseconds it would wrap to another century.
			return sidelog.Errorf(sidelog.EINVALID, "record %d: time %s is outside the times a log database can store (%s to %s)",
				i, recs[i].Time.Format(time.RFC3339), sidelog.MinTime.Format(time.RFC3339), sidelog.MaxTime.Format(time.RFC3339))
		}
	}
	// Keep the batch in time order so rowid order stays time order; a
	// stable sort leaves equal times in arrival order.
	if !sort.SliceIsSorted(recs, func(i, j int) bool { return recs[i].Time.Before(recs[j].Time) }) {
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].Time.Before(recs[j].Time) })
	}
	for start := 0; start < len(recs); {
		day := dayOf(recs[start].Time.UnixNano())
		end := start + 1
		for end < len(recs) && dayOf(recs[end].Time.UnixNano()) == day {
			end++
		}
		if err := db.writeDay(ctx, day, recs[start:end]); err != nil {
			return err
		}
		start = end
	}
	db.closeOldWriters(dayOf(recs[len(recs)-1].Time.UnixNano()))
	return nil
}

// closeOldWriters closes the writer connections of days before the day
// before newest: late records for those are rare, and each open writer
// keeps a page cache. A late record reopens its file's writer.
func (db *DB) closeOldWriters(newest int64) {
	for _, s := range db.segments() {
		if s.day < newest-1 {
			s.closeWriter()
		}
	}
}

// writeDay stores one day's records: each gets the day's next sequence
// number as its rowid, whichever class file it goes to, so rowid order is
// the day's time order across its files.
func (db *DB) writeDay(ctx context.Context, day int64, recs []sidelog.Record) error {
	first, err := db.daySeq(ctx, day)
	if err != nil {
		return classify(err)
	}
	db.nextSeq[day] = first + int64(len(recs)) // gaps after a failure are harmless
	var byClass [len(classNames)][]int
	for i := range recs {
		c := fileClassOf(&recs[i])
		byClass[c] = append(byClass[c], i)
	}
	for c, idx := range byClass {
		if len(idx) == 0 {
			continue
		}
		sub := make([]sidelog.Record, len(idx))
		rows := make([]int64, len(idx))
		for j, i := range idx {
			sub[j], rows[j] = recs[i], first+int64(i)
		}
		if err := db.writeSegment(ctx, segKey{day, fileClass(c)}, sub, rows); err != nil {
			return err
		}
		for j, i := range idx {
			recs[i].ID = makeID(day, rows[j])
		}
	}
	return nil
}

// daySeq returns the next rowid of the day, reading it from the day's files
// the first time.
func (db *DB) daySeq(ctx context.Context, day int64) (int64, error) {
	if n, ok := db.nextSeq[day]; ok {
		return n, nil
	}
	var last int64
	for _, s := range db.segments() {
		if s.day != day {
			continue
		}
		m, err := s.maxID(ctx)
		if isCorrupt(err) {
			err = db.setAside(s, err) // see writeSegment
		}
		if err != nil {
			return 0, err
		}
		last = max(last, m)
	}
	// Never below what a follower has read: after its newest records were
	// purged, reusing their IDs would hide new records from it.
	return max(last, db.seqFloor[day]) + 1, nil
}

func (db *DB) writeSegment(ctx context.Context, k segKey, recs []sidelog.Record, rows []int64) error {
	err := db.tryWriteSegment(ctx, k, recs, rows)
	if isCorrupt(err) {
		// A damaged file must not stop logging: move it aside, keep it
		// for inspection, and write into a new one.
		if qerr := db.setAside(db.segment(k), err); qerr != nil {
			return errors.Join(err, qerr)
		}
		err = db.tryWriteSegment(ctx, k, recs, rows)
	}
	return classify(err)
}

func (db *DB) tryWriteSegment(ctx context.Context, k segKey, recs []sidelog.Record, rows []int64) error {
	for {
		s := db.segmentFor(k)
		s.wlock.Lock()
		if s.dropped {
			s.wlock.Unlock() // retention deleted it meanwhile: a new file takes its place
			continue
		}
		err := s.openWriter(ctx)
		if err == nil {
			err = s.write(ctx, recs, rows)
		}
		if err != nil {
			s.forgetCaches()
		}
		s.wlock.Unlock()
		return err
	}
}

// SQLite's result codes for a damaged file.
const (
	codeCorrupt = 11
	codeNotADB  = 26
)

func isCorrupt(err error) bool {
	var c sqliteCoder
	if !errors.As(err, &c) {
		return false
	}
	code := c.Code() & 0xff
	return code == codeCorrupt || code == codeNotADB
}

// write inserts recs with the given rowids into the segment in one
// transaction.
func (s *segment) write(ctx context.Context, recs []sidelog.Record, rowids []int64) error {
	s.catchUp(ctx)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	links, head, err := s.db.chainLinks(ctx, s, recs, rowids)
	if err != nil {
		return err
	}
	args := make([]any, 0, rowsPerInsert*colsPerRow)
	roll := map[rollupKey]int64{}
	d := newDerived()
	for i := 0; i < len(recs); i += rowsPerInsert {
		chunk := recs[i:min(i+rowsPerInsert, len(recs))]
		args = args[:0]
		for j := range chunk {
			r := &chunk[j]
			row, err := s.rowArgs(ctx, tx, rowids[i+j], r)
			if err != nil {
				return err
			}
			args = append(args, row...)
			if links != nil && links[i+j][0] != nil {
				args = append(args, links[i+j][0], links[i+j][1])
			} else {
				args = append(args, nil, nil)
			}
			roll[rollupKeyOf(r)]++
			d.add(rowids[i+j], r.Time.UnixNano(), r.Kind, row[colAttrs], row[colRoute], row[colMethod], r.Status, r.Duration)
		}
		var err error
		if len(chunk) == rowsPerInsert {
			_, err = tx.StmtContext(ctx, s.ins).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertSQL[len(chunk)], args...)
		}
		if err != nil {
			return fmt.Errorf("insert logs: %w", err)
		}
	}
	if err := addRollup(ctx, tx, roll); err != nil {
		return err
	}
	if err := d.flush(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.db.chain = head
	s.addCounts(roll)
	s.committed(len(recs))
	return nil
}

// rowArgs returns the column values of one record in logColumns order.
func (s *segment) rowArgs(ctx context.Context, tx *sql.Tx, rowid int64, r *sidelog.Record) ([]any, error) {
	var ids [6]any // logger, msg, method, path, route, user agent
	var err error
	for k, v := range [...]struct {
		s   string
		msg bool
	}{{r.Logger, false}, {r.Message, true}, {r.Method, false}, {r.Path, false}, {r.Route, false}, {r.UserAgent, false}} {
		if v.s == "" && !v.msg {
			continue
		}
		if ids[k], err = s.intern(ctx, tx, v.s, v.msg); err != nil {
			return nil, err
		}
	}
	var errID any
	if r.Error != "" {
		if errID, err = s.intern(ctx, tx, r.Error, true); err != nil {
			return nil, err
		}
	}
	return []any{rowid, r.Time.UnixNano(), int64(r.Level), int64(r.Kind), ids[0], ids[1],
		nullStr(r.RequestID), nullStr(r.TraceID), nullStr(r.SpanID), nullStr(r.UserID), nullStr(r.TenantID),
		ids[2], ids[3], ids[4], nullInt(int64(r.Status)), nullInt(int64(r.Duration)), nullStr(r.ClientIP), ids[5],
		errID, attrsText(r.Attrs)}, nil
}

// intern returns the id of str in the dict (or, for messages and errors,
// the full-text-indexed msgs) table, adding it if new.
func (s *segment) intern(ctx context.Context, tx *sql.Tx, str string, msg bool) (int64, error) {
	cache, table := s.dict, "dict"
	if msg {
		cache, table = s.msgs, "msgs"
	}
	if id, ok := cache[str]; ok {
		return id, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM `+table+` WHERE s = ?`, str).Scan(&id)
	if err == sql.ErrNoRows {
		err = tx.QueryRowContext(ctx, `INSERT INTO `+table+`(s) VALUES (?) RETURNING id`, str).Scan(&id)
		if err == nil && msg {
			_, err = tx.ExecContext(ctx, `INSERT INTO msgs_fts(rowid, s) VALUES (?, ?)`, id, str)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("intern %s: %w", table, err)
	}
	if len(cache) >= maxCached {
		clear(cache)
	}
	cache[str] = id
	return id, nil
}

// maxCached bounds each of the writer's string caches.
const maxCached = 50000

type rollupKey struct {
	minute      int64
	levelClass  int8
	kind        int8
	statusClass int8
}

func rollupKeyOf(r *sidelog.Record) rollupKey {
	return rollupKey{
		minute:      floorDiv(r.Time.UnixNano(), int64(time.Minute)),
		levelClass:  int8(sidelog.LevelClass(r.Level)),
		kind:        int8(r.Kind),
		statusClass: statusClass(r.Status),
	}
}

func statusClass(status int) int8 {
	if status < 100 || status > 599 {
		return 0
	}
	return int8(status / 100)
}

func addRollup(ctx context.Context, tx *sql.Tx, roll map[rollupKey]int64) error {
	hours := make(map[rollupKey]int64, len(roll)/8+1)
	for k, n := range roll {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rollup(minute, level_class, kind, status_class, n)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n`,
			k.minute, k.levelClass, k.kind, k.statusClass, n); err != nil {
			return fmt.Errorf("update rollup: %w", err)
		}
		k.minute = floorDiv(k.minute, 60)
		hours[k] += n
	}
	for k, n := range hours {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rollup_hour(hour, level_class, kind, status_class, n)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n`,
			k.minute, k.levelClass, k.kind, k.statusClass, n); err != nil {
			return fmt.Errorf("update rollup_hour: %w", err)
		}
	}
	return nil
}

// rebuildRollupHourSQL refills rollup_hour from rollup, after erasure or
// a retention rewrite changed the per-minute counts.
const rebuildRollupHourSQL = `INSERT INTO main.rollup_hour(hour, level_class, kind, status_class, n)
	SELECT (minute - ((minute % 60) + 60) % 60) / 60, level_class, kind, status_class, sum(n)
	FROM main.rollup GROUP BY 1, 2, 3, 4`

func floorDiv(a, b int64) int64 {
	q := a / b
	if a < 0 && a%b != 0 {
		q--
	}
	return q
}

func nullStr(s string) any {
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

// attrsText returns attrs as stored: NULL when empty, the JSON text when
// valid, and otherwise the bytes wrapped as a JSON string so nothing is lost.
func attrsText(a json.RawMessage) any {
	if len(a) == 0 || string(a) == "{}" || string(a) == "null" {
		return nil
	}
	if json.Valid(a) {
		return string(a)
	}
	b, _ := json.Marshal(map[string]string{"!invalid_attrs": string(a)})
	return string(b)
}

// makeID combines a segment day and a rowid into a record ID that sorts in
// time order across segments.
func makeID(day, rowid int64) int64 { return day<<32 | rowid }

// splitID is the reverse of makeID.
func splitID(id int64) (day, rowid int64) { return id >> 32, id & (1<<32 - 1) }
