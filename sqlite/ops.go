package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
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
	// A catalog damaged since Open is set aside here (see catalogFailed),
	// and the new one is checked; the caller lists what was set aside.
	var tables int
	if err := db.catRow(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil && !isCorrupt(err) {
		return probs, err
	}
	defer db.afterRead(ctx)
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
	if _, err := db.catExec(ctx, `VACUUM`); err != nil {
		return classify(fmt.Errorf("vacuum catalog: %w", err))
	}
	_, err := db.catExec(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
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
	if (userID == "") == (tenantID == "") {
		return 0, sidelog.Errorf(sidelog.EINVALID, "purge needs exactly one of a user and a tenant")
	}
	return db.Erase(ctx, Erasure{UserID: userID, TenantID: tenantID}, actor)
}
