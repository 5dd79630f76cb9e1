package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
)

// Stats describes a log database.
type Stats struct {
	Path          string
	Bytes         int64 // on disk, catalog and segments with their WAL files
	Segments      int   // day files
	Records       int64
	ByLevel       [4]int64 // by level class: debug, info, warn, error
	ByKind        [4]int64 // by sidelog.Kind
	Oldest        time.Time
	Newest        time.Time
	SQLiteVersion string
}

// Stats returns the database's size and record counts; the counts come
// from the rollup, so they cost no scan.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Path: db.path, Bytes: db.Size()}
	var err error
	if st.SQLiteVersion, err = db.SQLiteVersion(ctx); err != nil {
		return st, classify(err)
	}
	segs := db.segments()
	defer db.afterRead(ctx)
	for _, s := range segs {
		err := s.withReader(func(r queryer) error {
			counts, err := s.classCounts(ctx)
			if err != nil {
				return err
			}
			for k, n := range counts {
				st.Records += n
				st.ByLevel[k.levelClass] += n
				if int(k.kind) < len(st.ByKind) {
					st.ByKind[k.kind] += n
				}
			}
			var lo, hi sql.NullInt64
			if err := r.QueryRowContext(ctx, `SELECT min(ts), max(ts) FROM logs`).Scan(&lo, &hi); err != nil {
				return err
			}
			if lo.Valid && (st.Oldest.IsZero() || lo.Int64 < st.Oldest.UnixNano()) {
				st.Oldest = time.Unix(0, lo.Int64).UTC()
			}
			if hi.Valid && hi.Int64 > st.Newest.UnixNano() {
				st.Newest = time.Unix(0, hi.Int64).UTC()
			}
			return nil
		})
		if err = db.survive(s, err); err != nil {
			return st, classify(fmt.Errorf("stats %s: %w", s.name(), err))
		}
		if !s.isDropped() {
			st.Segments++
		}
	}
	return st, nil
}

// Problem is one finding of Check.
type Problem struct {
	File    string // the catalog or a segment file name
	Message string
}

// Check runs SQLite's integrity check on every file and the full-text
// index's own check on every segment. No problems means the database is
// sound.
func (db *DB) Check(ctx context.Context) ([]Problem, error) {
	var probs []Problem
	collect := func(file string, r *sql.DB, fts bool) error {
		rows, err := r.QueryContext(ctx, `PRAGMA integrity_check`)
		if err != nil {
			probs = append(probs, Problem{file, err.Error()})
			return nil
		}
		defer rows.Close()
		for rows.Next() {
			var msg string
			if err := rows.Scan(&msg); err != nil {
				return err
			}
			if msg != "ok" {
				probs = append(probs, Problem{file, msg})
			}
		}
		if err := rows.Err(); err != nil {
			probs = append(probs, Problem{file, err.Error()})
		}
		if fts {
			if _, err := r.ExecContext(ctx, `INSERT INTO msgs_fts(msgs_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
				probs = append(probs, Problem{file, "full-text index: " + err.Error()})
			}
		}
		return nil
	}
	if err := collect(filepath.Base(db.path), db.cat(), false); err != nil {
		return probs, err
	}
	for _, s := range db.segments() {
		// The FTS check writes nothing but needs a writable handle.
		db.wmu.Lock()
		s.wlock.Lock()
		if s.dropped {
			s.wlock.Unlock()
			db.wmu.Unlock()
			continue
		}
		err := s.openWriter(ctx)
		if err == nil {
			err = collect(s.name(), s.w, true)
		} else {
			probs = append(probs, Problem{s.name(), err.Error()})
			err = nil
		}
		s.wlock.Unlock()
		db.wmu.Unlock()
		if err != nil {
			return probs, err
		}
	}
	for _, a := range db.SetAside() {
		probs = append(probs, Problem{a.File, fmt.Sprintf("set aside as damaged at %s: its records are no longer read; inspect it, then delete it",
			a.Time.Format(time.RFC3339))})
	}
	return probs, nil
}

// Vacuum rebuilds every file to its smallest size and truncates the WAL
// files. It holds the writer for each file in turn.
func (db *DB) Vacuum(ctx context.Context) error {
	defer db.afterRead(ctx)
	for _, s := range db.segments() {
		if err := db.survive(s, db.vacuumSegment(ctx, s)); err != nil {
			return err
		}
	}
	if _, err := db.cat().ExecContext(ctx, `VACUUM`); err != nil {
		return classify(fmt.Errorf("vacuum catalog: %w", err))
	}
	_, err := db.cat().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return classify(err)
}

func (db *DB) vacuumSegment(ctx context.Context, s *segment) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	s.wlock.Lock()
	defer s.wlock.Unlock()
	if s.dropped {
		return nil
	}
	if err := s.openWriter(ctx); err != nil {
		return err
	}
	for _, q := range []string{ftsOptimize, `VACUUM`, `PRAGMA optimize`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			return classify(fmt.Errorf("vacuum %s: %w", s.name(), err))
		}
	}
	return nil
}

// Purge erases every record of one user (or one tenant) and the messages
// only those records used, overwriting the freed space (secure_delete), and
// records the erasure as a security event by actor. Exactly one of userID
// and tenantID must be set. It returns the number of records erased.
func (db *DB) Purge(ctx context.Context, userID, tenantID, actor string) (int64, error) {
	col, val := "user_id", userID
	switch {
	case userID != "" && tenantID != "", userID == "" && tenantID == "":
		return 0, sidelog.Errorf(sidelog.EINVALID, "purge needs exactly one of a user and a tenant")
	case tenantID != "":
		col, val = "tenant_id", tenantID
	}
	var total int64
	for _, s := range db.segments() {
		n, err := db.purgeSegment(ctx, s, col, val)
		if err = db.survive(s, err); err != nil {
			return total, err
		}
		total += n
	}
	ev := sidelog.Record{
		Time: time.Now(), Level: 4, Kind: sidelog.KindSecurity, Logger: "sidelog",
		Message: fmt.Sprintf("purged %d records of %s %s", total, map[string]string{"user_id": "user", "tenant_id": "tenant"}[col], val),
		UserID:  actor,
	}
	if err := db.WriteBatch(ctx, []sidelog.Record{ev}); err != nil {
		return total, fmt.Errorf("record purge event: %w", err)
	}
	return total, nil
}

func (db *DB) purgeSegment(ctx context.Context, s *segment, col, val string) (int64, error) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	s.wlock.Lock()
	defer s.wlock.Unlock()
	if s.dropped {
		return 0, nil
	}
	if err := s.openWriter(ctx); err != nil {
		return 0, err
	}
	n, err := s.purge(ctx, col, val)
	if err != nil {
		s.forgetCaches()
		return 0, classify(fmt.Errorf("purge %s: %w", s.name(), err))
	}
	// Purged messages may be gone: the writer's cached ids with them.
	s.forgetCaches()
	s.resetCounts()
	return n, nil
}

// purge deletes the rows with col = val in one transaction, keeping the
// rollup right and dropping messages no other row uses.
func (s *segment) purge(ctx context.Context, col, val string) (int64, error) {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return 0, err
	}
	defer conn.ExecContext(context.Background(), `PRAGMA secure_delete = OFF`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	match := ` FROM logs WHERE ` + col + ` = ?`
	for _, q := range []string{
		`CREATE TEMP TABLE IF NOT EXISTS purged_msgs (id INTEGER PRIMARY KEY)`,
		`DELETE FROM purged_msgs`,
		`INSERT OR IGNORE INTO purged_msgs SELECT msg` + match + ` UNION SELECT err` + match + ` AND err IS NOT NULL`,
		`UPDATE rollup SET n = n - p.c FROM (SELECT ts / 60000000000 AS m, ` + levelClassSQL + ` AS lc, kind AS k,
			CASE WHEN status BETWEEN 100 AND 599 THEN status / 100 ELSE 0 END AS sc, count(*) AS c` + match + `
			GROUP BY 1, 2, 3, 4) AS p WHERE minute = p.m AND level_class = p.lc AND kind = p.k AND status_class = p.sc`,
	} {
		args := []any{}
		for range strings.Count(q, "?") {
			args = append(args, val)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return 0, err
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE`+match, val)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	for _, q := range []string{
		`DELETE FROM rollup WHERE n <= 0`,
		`DELETE FROM purged_msgs WHERE id IN (SELECT msg FROM logs WHERE msg IN purged_msgs) OR id IN (SELECT err FROM logs WHERE err IN purged_msgs)`,
		`INSERT INTO msgs_fts(msgs_fts, rowid, s) SELECT 'delete', id, s FROM msgs WHERE id IN purged_msgs`,
		`DELETE FROM msgs WHERE id IN purged_msgs`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	_, err = conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return n, err
	}
	return n, nil
}
