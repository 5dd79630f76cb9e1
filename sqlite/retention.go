package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sidelog/sidelog"
)

// CleanupReport says what a retention run did (or, for a dry run, would do).
type CleanupReport struct {
	DryRun            bool
	Removed           int64 // records removed
	SegmentsDropped   int   // day files deleted whole
	SegmentsRewritten int   // day files rewritten without their expired records
	BytesBefore       int64
	BytesAfter        int64
	Elapsed           time.Duration
	// Held counts expired records kept because a follower (a shipper) has
	// not read them yet (Retention.KeepUnshipped); Lost counts records
	// removed before a follower read them.
	Held, Lost int64

	announced bool // the run's "started" security event is written
}

// Cleanup applies the retention policy as of now. Day files whose every
// record has expired are deleted; files with some expired records are
// rewritten beside the original with only the survivors and swapped in, so
// the space comes back at once and the writer is held only for the swap.
// Then, while the database is larger than pol.MaxBytes, the oldest days lose
// everything but their audit and security records.
//
// A run that removes records leaves a record of it even when it is cut
// short: a security event ("retention cleanup started") is written before
// the first record goes, and one with the counts when the run ends, done
// or failed. A run that removes nothing writes no event.
func (db *DB) Cleanup(ctx context.Context, pol sidelog.Retention, now time.Time, dryRun bool) (rep CleanupReport, err error) {
	if err := pol.Validate(); err != nil {
		return CleanupReport{}, err
	}
	db.cleanMu.Lock()
	defer db.cleanMu.Unlock()
	if !dryRun {
		db.removeStaleRewrites(true)
		db.cleaning.Add(1)
		defer db.cleaning.Add(-1)
	}
	start := time.Now()
	rep = CleanupReport{DryRun: dryRun, BytesBefore: db.Size()}
	defer func() {
		if rep.announced {
			err = errors.Join(err, db.announceEnd(ctx, &rep, err))
		}
	}()
	h, err := db.newHold(ctx, pol)
	if err != nil {
		return rep, err
	}
	today := dayOf(now.UnixNano())
	segs := db.segments()
	slices.Reverse(segs) // oldest first
	defer db.afterRead(ctx)
	for _, s := range segs {
		if s.day >= today {
			continue
		}
		if err := db.survive(s, db.expireHeld(ctx, s, ageRule(pol, now), dryRun, false, h, &rep)); err != nil {
			return rep, err
		}
	}
	if pol.MaxBytes > 0 && !dryRun {
		if err := db.shrinkTo(ctx, pol.MaxBytes, today, h, &rep); err != nil {
			return rep, err
		}
	}
	rep.BytesAfter, rep.Elapsed = db.Size(), time.Since(start)
	return rep, nil
}

// rule says which records of a segment expire.
type rule struct {
	// cut returns the time before which records of the class key expire,
	// and false when they never do.
	cut func(k rollupKey) (int64, bool)
	// where is the same rule as an SQL condition on logs' columns.
	where func() (string, []any)
}

func isAuditKind(kind int8) bool {
	return kind == int8(sidelog.KindAudit) || kind == int8(sidelog.KindSecurity)
}

// ageRule is the per-level age policy.
func ageRule(pol sidelog.Retention, now time.Time) rule {
	cutOf := func(age time.Duration) (int64, bool) {
		return now.Add(-age).UnixNano(), age > 0
	}
	return rule{
		cut: func(k rollupKey) (int64, bool) {
			if isAuditKind(k.kind) {
				return cutOf(pol.AuditAge)
			}
			return cutOf(pol.MaxAge[k.levelClass])
		},
		where: func() (string, []any) {
			const never = int64(-1 << 63)
			cut := func(age time.Duration) int64 {
				if c, ok := cutOf(age); ok {
					return c
				}
				return never
			}
			return `CASE WHEN kind IN (2, 3) THEN ts < ?
				WHEN level < 0 THEN ts < ? WHEN level < 4 THEN ts < ? WHEN level < 8 THEN ts < ? ELSE ts < ? END`,
				[]any{cut(pol.AuditAge), cut(pol.MaxAge[0]), cut(pol.MaxAge[1]), cut(pol.MaxAge[2]), cut(pol.MaxAge[3])}
		},
	}
}

// expire removes the records of s that ru says have expired.
func (db *DB) expire(ctx context.Context, s *segment, ru rule, dryRun bool, rep *CleanupReport) error {
	counts, err := s.classCounts(ctx)
	if err != nil {
		return err
	}
	start, end := s.day*dayNanos, (s.day+1)*dayNanos
	var total, gone int64
	partial := false
	for k, n := range counts {
		total += n
		cut, ok := ru.cut(k)
		switch {
		case !ok || cut <= start:
		case cut >= end:
			gone += n
		default:
			partial = true
		}
	}
	switch {
	case total == 0 || gone == total:
		rep.Removed += total
		rep.SegmentsDropped++
		if dryRun {
			return nil
		}
		if err := db.announce(ctx, rep); err != nil {
			return err
		}
		if err := db.anchorBefore(ctx, s, "", nil); err != nil {
			return err
		}
		return db.drop(s)
	case gone == 0 && !partial:
		return nil
	}
	cond, args := ru.where()
	if dryRun {
		n, err := s.countWhere(ctx, cond, args)
		rep.Removed += n
		if n > 0 {
			rep.SegmentsRewritten++
		}
		return err
	}
	if err := db.announce(ctx, rep); err != nil {
		return err
	}
	if err := db.anchorBefore(ctx, s, cond, args); err != nil {
		return err
	}
	n, err := db.rewrite(ctx, s, cond, args)
	if n > 0 {
		rep.Removed += n
		rep.SegmentsRewritten++
	}
	return err
}

func (s *segment) countWhere(ctx context.Context, cond string, args []any) (int64, error) {
	var n int64
	err := s.withReader(func(r queryer) error {
		return r.QueryRowContext(ctx, `SELECT count(*) FROM logs WHERE `+cond, args...).Scan(&n)
	})
	return n, classify(err)
}

// drop deletes a segment's files.
func (db *DB) drop(s *segment) error {
	s.wlock.Lock()
	defer s.wlock.Unlock()
	s.swap.Lock()
	defer s.swap.Unlock()
	if err := s.close(); err != nil {
		return err
	}
	s.dropped = true
	db.forget(s)
	// The WAL goes first: left alone by a kill, it would be applied to a
	// new file of the same name.
	for _, suffix := range []string{"-wal", "-shm", ""} {
		if err := os.Remove(s.path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("drop %s: %w", filepath.Base(s.path), err)
		}
	}
	return nil
}

// rewrite copies the records of s not matching the expired condition into
// a new file and swaps it in; it returns how many records were left out.
// The copy runs without any lock (old days are not written to); the file's
// write lock is held only to check nothing changed meanwhile and to swap,
// and the writer's other files are never held up.
func (db *DB) rewrite(ctx context.Context, s *segment, expired string, args []any) (int64, error) {
	// The copy is made with the current schema: bring an old file up to
	// it first, or SELECT * would not fit.
	if err := s.openWriter(ctx); err != nil {
		return 0, err
	}
	before, err := s.maxID(ctx)
	if err != nil {
		return 0, err
	}
	tmp := fmt.Sprintf("%s%s%d", s.path, rewriteMarker, os.Getpid())
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(tmp + suffix)
	}
	removed, err := db.copySurvivors(ctx, s.path, tmp, expired, args)
	if err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("rewrite %s: %w", filepath.Base(s.path), err)
	}
	s.wlock.Lock()
	defer s.wlock.Unlock()
	s.swap.Lock()
	defer s.swap.Unlock()
	if after, err := s.maxIDLocked(ctx); err != nil || after != before {
		os.Remove(tmp)
		return 0, err // written to meanwhile: leave it for the next run
	}
	if err := s.close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return 0, fmt.Errorf("swap %s: %w", filepath.Base(s.path), err)
	}
	os.Remove(s.path + "-wal")
	os.Remove(s.path + "-shm")
	s.resetCounts()
	return removed, nil
}

// copySurvivors builds dst from the rows of src that are not expired.
func (db *DB) copySurvivors(ctx context.Context, src, dst, expired string, args []any) (int64, error) {
	w, err := db.openWriter(ctx, dst, "segment", true)
	if err != nil {
		return 0, err
	}
	defer w.Close()
	conn, err := w.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS src`, src); err != nil {
		return 0, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO main.logs SELECT * FROM src.logs WHERE NOT (`+expired+`)`, args...)
	if err != nil {
		return 0, err
	}
	kept, _ := res.RowsAffected()
	var total int64
	for _, q := range []string{
		`INSERT INTO main.dict SELECT * FROM src.dict`,
		`INSERT INTO main.msgs SELECT * FROM src.msgs WHERE id IN (SELECT msg FROM main.logs UNION SELECT err FROM main.logs)`,
		`INSERT INTO main.msgs_fts(msgs_fts) VALUES ('rebuild')`,
		`INSERT INTO main.rollup SELECT ts / 60000000000, ` + levelClassSQL + `, kind,
			CASE WHEN status BETWEEN 100 AND 599 THEN status / 100 ELSE 0 END, count(*) FROM main.logs GROUP BY 1, 2, 3, 4`,
		rebuildRollupHourSQL,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return 0, err
		}
	}
	if err := rebuildDerived(ctx, tx, "main"); err != nil {
		return 0, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM src.logs`).Scan(&total); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	if _, err := conn.ExecContext(ctx, `DETACH DATABASE src`); err != nil {
		return 0, err
	}
	_, err = conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return total - kept, err
}

// levelClassSQL is sidelog.LevelClass in SQL.
const levelClassSQL = `CASE WHEN level < 0 THEN 0 WHEN level < 4 THEN 1 WHEN level < 8 THEN 2 ELSE 3 END`

// maxID returns the segment's largest rowid (0 when empty).
func (s *segment) maxID(ctx context.Context) (int64, error) {
	s.swap.RLock()
	defer s.swap.RUnlock()
	return s.maxIDLocked(ctx)
}

func (s *segment) maxIDLocked(ctx context.Context) (int64, error) {
	r, err := s.reader()
	if err != nil {
		return 0, err
	}
	var id sql.NullInt64
	err = r.QueryRowContext(ctx, `SELECT max(id) FROM logs`).Scan(&id)
	if isNoSchema(err) {
		return 0, nil
	}
	return id.Int64, classify(err)
}

// shrinkTo removes the oldest days' non-audit records until the database
// is at most maxBytes, never touching today's segment.
func (db *DB) shrinkTo(ctx context.Context, maxBytes int64, today int64, h *hold, rep *CleanupReport) error {
	segs := db.segments()
	slices.Reverse(segs) // oldest first
	keepAudit := rule{
		cut: func(k rollupKey) (int64, bool) { return int64(1<<63 - 1), !isAuditKind(k.kind) },
		where: func() (string, []any) {
			return `kind NOT IN (2, 3)`, nil
		},
	}
	for _, s := range segs {
		if db.Size() <= maxBytes || s.day >= today {
			return nil
		}
		if err := db.survive(s, db.expireHeld(ctx, s, keepAudit, false, true, h, rep)); err != nil {
			return err
		}
	}
	return nil
}

// Size returns the bytes the database takes on disk: the catalog and every
// segment, with their WAL files.
func (db *DB) Size() int64 {
	var n int64
	for _, p := range []string{db.path, db.path + "-wal"} {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	ents, _ := os.ReadDir(db.dir)
	for _, e := range ents {
		if info, err := e.Info(); err == nil && !e.IsDir() {
			n += info.Size()
		}
	}
	return n
}

// StartRetention runs Cleanup every interval in the background, with the
// policy saved in the database (see SetRetention; the default until one is
// saved), until the returned stop function is called. report, when not nil,
// gets each run's result. stop waits for a run in progress to end.
func (db *DB) StartRetention(interval time.Duration, report func(CleanupReport, error)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			pol, err := db.Retention(ctx)
			var rep CleanupReport
			if err == nil {
				rep, err = db.Cleanup(ctx, pol, time.Now(), false)
			}
			if report != nil && ctx.Err() == nil {
				report(rep, err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// rewriteMarker and the writing process's id follow a day file's name in
// the name of its rewrite in progress.
const rewriteMarker = ".rewrite-"

// removeStaleRewrites deletes the rewrites in progress left by a cleanup
// that was killed (its process is gone, or, with own, it is this one: the
// caller holds cleanMu), and the WAL files left without their database by
// a kill in the middle of a drop.
func (db *DB) removeStaleRewrites(own bool) {
	ents, err := os.ReadDir(db.dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		if base, ok := strings.CutSuffix(name, "-wal"); ok && !exists(filepath.Join(db.dir, base)) {
			os.Remove(filepath.Join(db.dir, name))
			os.Remove(filepath.Join(db.dir, base+"-shm"))
			continue
		}
		i := strings.LastIndex(name, rewriteMarker)
		if i < 0 {
			continue
		}
		num, _, _ := strings.Cut(name[i+len(rewriteMarker):], "-") // -wal, -shm, -journal
		pid, err := strconv.Atoi(num)
		if err != nil || (pid == os.Getpid() && !own) || (pid != os.Getpid() && processAlive(pid)) {
			continue
		}
		os.Remove(filepath.Join(db.dir, name))
	}
}

// processAlive reports whether a process with the id runs (where signal 0
// cannot tell, it says no).
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

// announce records, once per run and before its first record is removed,
// that a cleanup is removing records: a run cut short (killed, a crash)
// leaves this trace.
func (db *DB) announce(ctx context.Context, rep *CleanupReport) error {
	if rep.announced {
		return nil
	}
	ev := sidelog.Record{Time: db.opts.Now(), Level: slog.LevelWarn, Kind: sidelog.KindSecurity, Logger: "sidelog",
		Message: "retention cleanup started: removing expired records"}
	if err := db.WriteBatch(ctx, []sidelog.Record{ev}); err != nil {
		return fmt.Errorf("record the cleanup's start: %w", err)
	}
	rep.announced = true
	return nil
}

// announceEnd records what an announced run removed, and how it ended.
func (db *DB) announceEnd(ctx context.Context, rep *CleanupReport, runErr error) error {
	msg := fmt.Sprintf("retention cleanup done: removed %d records (%d day files deleted, %d rewritten)",
		rep.Removed, rep.SegmentsDropped, rep.SegmentsRewritten)
	if runErr != nil {
		msg = fmt.Sprintf("retention cleanup failed after removing %d records (%d day files deleted, %d rewritten): %v",
			rep.Removed, rep.SegmentsDropped, rep.SegmentsRewritten, runErr)
	}
	ev := sidelog.Record{Time: db.opts.Now(), Level: slog.LevelWarn, Kind: sidelog.KindSecurity, Logger: "sidelog", Message: msg}
	if err := db.WriteBatch(context.WithoutCancel(ctx), []sidelog.Record{ev}); err != nil {
		return fmt.Errorf("record the cleanup's end: %w", err)
	}
	return nil
}
