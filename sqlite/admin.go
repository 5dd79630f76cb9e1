package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
)

// Setting returns the value saved under key in the catalog's settings, and
// whether there is one. The admin UI keeps its saved views there.
func (db *DB) Setting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := db.catRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, classify(fmt.Errorf("read setting %s: %w", key, err))
	}
	return v, true, nil
}

// SetSetting saves value under key; an empty value removes the key.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	if key == "" || key == retentionKey {
		return sidelog.Errorf(sidelog.EINVALID, "setting key %q is reserved", key)
	}
	var err error
	if value == "" {
		_, err = db.catExec(ctx, `DELETE FROM settings WHERE key = ?`, key)
	} else {
		_, err = db.catExec(ctx, `INSERT INTO settings(key, value) VALUES (?, ?)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	}
	return classify(err)
}

// Delete removes every record matching f, overwriting the freed space
// (secure_delete), and records the deletion as a security event by actor.
// A filter that selects everything is refused: that is retention's job.
// It returns the number of records deleted.
func (db *DB) Delete(ctx context.Context, f sidelog.Filter, actor string) (int64, error) {
	if isEmptyFilter(f) {
		return 0, sidelog.Errorf(sidelog.EINVALID, "delete needs a query: refusing to delete every record")
	}
	var total int64
	flush := func(day int64, rowids []int64) error {
		if len(rowids) == 0 {
			return nil
		}
		for _, s := range db.segments() {
			if s.day != day {
				continue
			}
			n, err := db.deleteInSegment(ctx, s, rowids)
			if err = db.survive(s, err); err != nil {
				return err
			}
			total += n
		}
		return nil
	}
	// Collect the matching ids a day at a time (Scan goes oldest first,
	// day by day), then delete them file by file.
	curDay, rowids := int64(-1), []int64(nil)
	for r, err := range db.Scan(ctx, f) {
		if err != nil {
			return total, err
		}
		day, rowid := splitID(r.ID)
		if day != curDay {
			if err := flush(curDay, rowids); err != nil {
				return total, err
			}
			curDay, rowids = day, rowids[:0]
		}
		rowids = append(rowids, rowid)
	}
	if err := flush(curDay, rowids); err != nil {
		return total, err
	}
	ev := sidelog.Record{
		Time: time.Now(), Level: 4, Kind: sidelog.KindSecurity, Logger: "sidelog",
		Message: fmt.Sprintf("deleted %d records by query", total),
		UserID:  actor,
	}
	if err := db.WriteBatch(ctx, []sidelog.Record{ev}); err != nil {
		return total, fmt.Errorf("record delete event: %w", err)
	}
	return total, nil
}

// deleteInSegment deletes the segment's rows with the given rowids under
// the write locks, with secure_delete on.
func (db *DB) deleteInSegment(ctx context.Context, s *segment, rowids []int64) (int64, error) {
	return db.removeInSegment(ctx, s, "delete in", func() (int64, error) { return s.deleteRowids(ctx, rowids) })
}

// removeInSegment runs remove, which deletes rows of s, under the database's
// and the segment's write locks with the writer open, then drops the
// writer's cached string ids (the strings may be gone) and its class counts.
func (db *DB) removeInSegment(ctx context.Context, s *segment, verb string, remove func() (int64, error)) (int64, error) {
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
	n, err := remove()
	s.forgetCaches()
	if err != nil {
		return 0, classify(fmt.Errorf("%s %s: %w", verb, s.name(), err))
	}
	s.resetCounts()
	return n, nil
}

func (s *segment) deleteRowids(ctx context.Context, rowids []int64) (int64, error) {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return 0, err
	}
	defer conn.ExecContext(context.Background(), `PRAGMA secure_delete = OFF`)
	if err := fillRowids(ctx, conn, rowids); err != nil {
		return 0, err
	}
	n, err := deleteRows(ctx, conn, `id IN temp.del_rows`, nil, s.db)
	if err != nil {
		return 0, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return n, err
	}
	return n, nil
}

// fillRowids puts rowids into the temp table del_rows of conn.
func fillRowids(ctx context.Context, conn *sql.Conn, rowids []int64) error {
	for _, q := range []string{`CREATE TEMP TABLE IF NOT EXISTS del_rows (id INTEGER PRIMARY KEY)`, `DELETE FROM del_rows`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	const chunk = 500
	for i := 0; i < len(rowids); i += chunk {
		part := rowids[i:min(i+chunk, len(rowids))]
		args := make([]any, len(part))
		for j, id := range part {
			args[j] = id
		}
		q := `INSERT OR IGNORE INTO del_rows(id) VALUES ` + strings.TrimSuffix(strings.Repeat("(?),", len(part)), ",")
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// isEmptyFilter reports whether f selects every record.
func isEmptyFilter(f sidelog.Filter) bool {
	return f.MinLevel == nil && f.MaxLevel == nil && f.Since.IsZero() && f.Until.IsZero() && len(f.Kinds) == 0 &&
		f.Logger == "" && f.RequestID == "" && f.TraceID == "" && f.UserID == "" && f.TenantID == "" &&
		f.Method == "" && f.Path == "" && f.ClientIP == "" && f.MinStatus == 0 && f.MaxStatus == 0 && f.Text == "" && f.Expr == nil
}

// Sizes splits the bytes on disk by what they hold.
type Sizes struct {
	Catalog  int64 // the catalog file
	Segments int64 // the day files (records, dictionaries, indexes)
	WAL      int64 // write-ahead logs of every file, not yet checkpointed
	Files    int   // day files
}

// Sizes returns the database's bytes on disk by kind of file, from the
// file system (it reads no page).
func (db *DB) Sizes() Sizes {
	var sz Sizes
	add := func(path string, main *int64) {
		if st, err := os.Stat(path); err == nil {
			*main += st.Size()
		}
		for _, suffix := range []string{"-wal"} {
			if st, err := os.Stat(path + suffix); err == nil {
				sz.WAL += st.Size()
			}
		}
	}
	add(db.path, &sz.Catalog)
	ents, _ := os.ReadDir(db.dir)
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || strings.HasSuffix(name, "-wal") || strings.HasSuffix(name, "-shm") || strings.HasSuffix(name, "-journal") {
			continue
		}
		if _, ok := parseSegmentName(name); !ok {
			continue
		}
		sz.Files++
		add(filepath.Join(db.dir, name), &sz.Segments)
	}
	return sz
}
